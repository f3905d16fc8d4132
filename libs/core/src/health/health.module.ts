import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.routes.js';
import { MigrationStatusService } from './migration-status.service.js';
import { ReadinessService } from './readiness.service.js';

/** `/health/live`, `/health/ready` and `/metrics`, served by the API and by each worker on its own port. */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [ReadinessService, MigrationStatusService],
  exports: [ReadinessService, MigrationStatusService],
})
export class HealthModule {}
