import { Module } from '@nestjs/common';
import { ConfigModule, DatabaseModule, JobsModule, LoggingModule, SecurityModule, StorageModule } from '@app/core';
import { HealthModule } from '@app/core/http';
import { AdaptersModule, CivitaiScheduleModule, LibraryWatchModule, WatchHostApp } from '@app/adapters';
import { DeliveryModule } from '@app/delivery';
import { GenerationModule } from '@app/generation';
import { ResultsModule } from '@app/results';
import { HeartbeatModule, ProcessKind, RecommendationsModule } from '@app/insights';
import { ENTITIES, MIGRATIONS } from '@app/migrations';
import { JobProcessor } from './job.processor.js';

@Module({
  imports: [
    ConfigModule,
    LoggingModule.forRoot('worker'),
    DatabaseModule.forRoot({ entities: ENTITIES, migrations: MIGRATIONS, migrateOnBoot: false }),
    JobsModule.forRoot({ runJobs: false, forwardEvents: false }),
    StorageModule,
    SecurityModule,
    AdaptersModule,
    LibraryWatchModule.forApp(WatchHostApp.Worker),
    CivitaiScheduleModule.forApp(WatchHostApp.Worker),
    HealthModule,
    GenerationModule,
    DeliveryModule,
    ResultsModule,
    RecommendationsModule,
    HeartbeatModule.forApp(ProcessKind.Worker),
  ],
  providers: [JobProcessor],
})
export class WorkerModule {}
