import { type DynamicModule, Module } from '@nestjs/common';
import { AdaptersModule } from '@app/adapters';
import { ActivityService } from './activity/activity.service.js';
import { AnalyticsRepository } from './analytics/analytics.repository.js';
import { AnalyticsService } from './analytics/analytics.service.js';
import { HEARTBEAT_KIND, HeartbeatService } from './status/heartbeat.service.js';
import type { ProcessKind } from './status/process-heartbeat.entity.js';
import { SystemStatusService } from './status/system-status.service.js';

/** Analytics, the activity feed and the system status: read-only views over the other libs' tables. */
@Module({
  imports: [AdaptersModule],
  providers: [AnalyticsRepository, AnalyticsService, ActivityService, SystemStatusService],
  exports: [AnalyticsService, ActivityService, SystemStatusService],
})
export class InsightsModule {}

/** Writes this process's heartbeat (`process_heartbeats`), which the system status counts. API and worker import it. */
@Module({})
export class HeartbeatModule {
  static forApp(kind: ProcessKind): DynamicModule {
    return {
      module: HeartbeatModule,
      providers: [{ provide: HEARTBEAT_KIND, useValue: kind }, HeartbeatService],
    };
  }
}
