import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { loadConfig } from '../config/app-config.js';
import { EventBus } from '../events/event-bus.js';
import { EventRelay } from '../events/event-relay.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { DiagnosticJobHandler } from './diagnostic.handler.js';
import { InProcessJobQueue } from './in-process-job-queue.js';
import { JobHandlerRegistry } from './job-handler.registry.js';
import { JobQueue } from './job-queue.js';
import { JOBS_OPTIONS, type JobsOptions } from './jobs-options.js';
import { QueuedJobRepository } from './queued-job.repository.js';

/**
 * The one place where embedded and scale-out modes part: `REDIS_URL` set → BullMQ, else the durable
 * in-process runner. Everything else injects `JobQueue`.
 *
 * In scale-out mode API processes (`forwardEvents`) also run the `JobReconciler`, which re-enqueues rows that
 * Redis lost. API processes, not workers: every deployment runs at least one API, it is where jobs are produced,
 * and it keeps working while every worker is down, so lost jobs are back in Redis before a worker returns;
 * workers scale in number and would only multiply the same idempotent scan. The CLI only enqueues.
 * In embedded mode there is nothing to reconcile: the `queued_jobs` rows are the queue.
 */
@Module({})
export class JobsModule {
  /** Asynchronous so that bullmq and ioredis are loaded only in scale-out mode (the CLI starts without them). */
  static async forRoot(options: JobsOptions): Promise<DynamicModule> {
    return {
      module: JobsModule,
      global: true,
      imports: [DiscoveryModule],
      providers: [
        { provide: JOBS_OPTIONS, useValue: options },
        EventBus,
        EventRelay,
        MetricsService,
        JobHandlerRegistry,
        QueuedJobRepository,
        DiagnosticJobHandler,
        ...(loadConfig().redis !== null
          ? await scaleOutQueue(options)
          : [{ provide: JobQueue, useClass: InProcessJobQueue }]),
      ],
      exports: [JobQueue, EventBus, EventRelay, MetricsService, JobHandlerRegistry, JOBS_OPTIONS],
    };
  }
}

async function scaleOutQueue(options: JobsOptions): Promise<Provider[]> {
  const { BullmqJobQueue } = await import('./bullmq-job-queue.js');
  const reconciler = options.forwardEvents ? (await import('./job-reconciler.js')).JobReconciler : null;
  return [BullmqJobQueue, { provide: JobQueue, useExisting: BullmqJobQueue }, ...(reconciler ? [reconciler] : [])];
}
