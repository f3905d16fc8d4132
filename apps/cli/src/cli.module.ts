import { Module } from '@nestjs/common';
import { ConfigModule, DatabaseModule, JobsModule, SecurityModule, StorageModule } from '@app/core';
import { ENTITIES, MIGRATIONS } from '@app/migrations';
import { MigrateCommand } from './migrate.command.js';

@Module({
  imports: [
    ConfigModule,
    DatabaseModule.forRoot({ entities: ENTITIES, migrations: MIGRATIONS, migrateOnBoot: false }),
    // The CLI only enqueues: a running API (embedded) or the workers (scale-out) run the jobs.
    JobsModule.forRoot({ runJobs: false, forwardEvents: false }),
    StorageModule,
    SecurityModule,
  ],
  providers: [MigrateCommand],
})
export class CliModule {}
