import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { ConfigModule, DatabaseModule, JobsModule, LoggingModule, SecurityModule, StorageModule } from '@app/core';
import { HealthModule } from '@app/core/http';
import { AdaptersModule, CivitaiScheduleModule, LibraryWatchModule, WatchHostApp } from '@app/adapters';
import { ArchiveModule } from '@app/archive';
import { DeliveryModule } from '@app/delivery';
import { GenerationModule } from '@app/generation';
import { RecipesModule, ResultsModule } from '@app/results';
import { HeartbeatModule, InsightsModule, ProcessKind, RecommendationsModule } from '@app/insights';
import { ENTITIES, MIGRATIONS } from '@app/migrations';
import { AdaptersController } from './adapters/adapters.controller.js';
import { ArchiveController } from './archive/archive.controller.js';
import { ArchiveUploads } from './archive/archive-uploads.js';
import { AllExceptionsFilter } from './common/all-exceptions.filter.js';
import { ComposeController } from './compose/compose.controller.js';
import { ApiKeyGuard } from './common/api-key.guard.js';
import { DeclaredQueryGuard } from './common/declared-query.guard.js';
import { MetricsInterceptor } from './common/metrics.interceptor.js';
import { documentHealthRoutes } from './common/open-routes.js';
import { createValidationPipe } from './common/validation.js';
import { DeliveriesController } from './deliveries/deliveries.controller.js';
import { GenerationController } from './generation/generation.controller.js';
import { CivitaiController } from './civitai/civitai.controller.js';
import { CivitaiRunsController } from './civitai/civitai-runs.controller.js';
import { DownloadsController } from './civitai/downloads.controller.js';
import { HashesController } from './hashes/hashes.controller.js';
import { ImportsController } from './imports/imports.controller.js';
import { JobsController } from './jobs/jobs.controller.js';
import { RecommendationsController } from './recommendations/recommendations.controller.js';
import { ResultsController } from './results/results.controller.js';
import { RecipesController } from './recipes/recipes.controller.js';
import { ResultsExportController } from './results/results-export.controller.js';
import { ProgressGateway } from './progress/progress.gateway.js';
import { ProgressReplay } from './progress/progress-replay.js';
import { SessionController } from './session/session.controller.js';
import { ActivityController, AnalyticsController, SystemController } from './insights/insights.controller.js';

// Core's health routes carry no OpenAPI decorators (workers serve them without loading swagger); the API adds them.
documentHealthRoutes();

@Module({
  imports: [
    ConfigModule,
    LoggingModule.forRoot('api'),
    DatabaseModule.forRoot({ entities: ENTITIES, migrations: MIGRATIONS, migrateOnBoot: true }),
    // Embedded mode runs jobs here; scale-out mode forwards the workers' events to this instance's clients.
    JobsModule.forRoot({ runJobs: true, forwardEvents: true }),
    StorageModule,
    SecurityModule,
    AdaptersModule,
    LibraryWatchModule.forApp(WatchHostApp.Api),
    CivitaiScheduleModule.forApp(WatchHostApp.Api),
    HealthModule,
    GenerationModule,
    DeliveryModule,
    ResultsModule,
    ArchiveModule.forApp({ scheduleBackups: true }),
    RecipesModule,
    RecommendationsModule,
    InsightsModule,
    HeartbeatModule.forApp(ProcessKind.Api),
  ],
  controllers: [
    ComposeController,
    GenerationController,
    JobsController,
    ImportsController,
    HashesController,
    CivitaiController,
    CivitaiRunsController,
    DownloadsController,
    AdaptersController,
    DeliveriesController,
    ResultsController,
    RecipesController,
    ResultsExportController,
    RecommendationsController,
    SessionController,
    ArchiveController,
    AnalyticsController,
    ActivityController,
    SystemController,
  ],
  providers: [
    ArchiveUploads,
    ProgressGateway,
    ProgressReplay,
    { provide: APP_GUARD, useClass: ApiKeyGuard },
    { provide: APP_GUARD, useClass: DeclaredQueryGuard },
    { provide: APP_INTERCEPTOR, useClass: MetricsInterceptor },
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
    { provide: APP_PIPE, useFactory: createValidationPipe },
  ],
})
export class ApiModule {}
