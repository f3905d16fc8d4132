import { type DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { loadConfig } from '../config/app-config.js';
import { EventBus } from '../events/event-bus.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { BullmqJobQueue } from './bullmq-job-queue.js';
import { DiagnosticJobHandler } from './diagnostic.handler.js';
import { InProcessJobQueue } from './in-process-job-queue.js';
import { JobHandlerRegistry } from './job-handler.registry.js';
import { JobQueue } from './job-queue.js';
import { JOBS_OPTIONS, type JobsOptions } from './jobs-options.js';
import { QueuedJobRepository } from './queued-job.repository.js';

/**
 * The one place where embedded and scale-out modes part: `REDIS_URL` set → BullMQ, else the durable
 * in-process runner. Everything else injects `JobQueue`.
 */
@Module({})
export class JobsModule {
  static forRoot(options: JobsOptions): DynamicModule {
    const useBullmq = loadConfig().redis !== null;
    return {
      module: JobsModule,
      global: true,
      imports: [DiscoveryModule],
      providers: [
        { provide: JOBS_OPTIONS, useValue: options },
        EventBus,
        MetricsService,
        JobHandlerRegistry,
        QueuedJobRepository,
        DiagnosticJobHandler,
        { provide: JobQueue, useClass: useBullmq ? BullmqJobQueue : InProcessJobQueue },
      ],
      exports: [JobQueue, EventBus, MetricsService, JobHandlerRegistry, JOBS_OPTIONS],
    };
  }
}
