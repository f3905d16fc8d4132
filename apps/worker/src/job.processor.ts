import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import {
  ALL_JOB_NAMES,
  APP_CONFIG,
  type AppConfig,
  bullConnection,
  CANCELLED_REASON,
  cancelChannel,
  createRedis,
  executeAttempt,
  JOB_RUN_OPTIONS,
  JobHandlerRegistry,
  type JobName,
  JobOutcome,
  MetricsService,
  type ProgressMessage,
} from '@app/core';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * The worker's only job: take BullMQ jobs and hand each to its handler. Progress and feature events travel
 * back through `job.updateProgress`, which every API instance receives from `QueueEvents`.
 */
@Injectable()
export class JobProcessor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(JobProcessor.name);
  private readonly workers: Worker[] = [];
  private subscriber?: Redis;
  private readonly redis: { url: string; prefix: string };

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly registry: JobHandlerRegistry,
    private readonly metrics: MetricsService,
  ) {
    if (!config.redis) throw new Error('The worker needs REDIS_URL');
    this.redis = config.redis;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.registry.assertComplete();
    for (const name of ALL_JOB_NAMES) {
      const worker = new Worker(name, (job, _token, signal) => this.process(name, job, signal), {
        connection: bullConnection(this.redis.url),
        prefix: this.redis.prefix,
        concurrency: JOB_RUN_OPTIONS[name].concurrency,
        // Stored on each job it takes (`processedBy`): operators (and tests) can tell which process runs a job.
        name: `${hostname()}:${process.pid}`,
        // A worker killed mid-job loses its lock; the stalled check hands the job to another worker.
        lockDuration: 15_000,
        stalledInterval: 5_000,
        maxStalledCount: 2,
      });
      worker.on('error', (error: Error) => this.logger.warn(`Worker ${name}: ${error.message}`));
      this.workers.push(worker);
    }
    // Cancels come from any API instance; whichever worker runs the job aborts it.
    this.subscriber = createRedis(this.redis.url);
    this.subscriber.on('error', (error: Error) => this.logger.warn(`Redis (cancel channel): ${error.message}`));
    this.subscriber.on('message', (_channel: string, message: string) => this.onCancel(message));
    await this.subscriber.subscribe(cancelChannel(this.redis.prefix));
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
    this.logger.log(`Processing ${ALL_JOB_NAMES.join(', ')} with prefix "${this.redis.prefix}"`);
  }

  /** Lets running jobs finish (BullMQ waits for them) before the process exits. */
  async onApplicationShutdown(): Promise<void> {
    await this.subscriber?.quit().catch(() => undefined);
    await Promise.allSettled(this.workers.map((w) => w.close()));
  }

  private onCancel(message: string): void {
    try {
      const { id } = JSON.parse(message) as { id: string };
      for (const worker of this.workers) worker.cancelJob(id, 'cancelled');
    } catch {
      this.logger.warn('Ignored a malformed cancel message');
    }
  }

  private async process(name: JobName, job: Job, signal: AbortSignal | undefined): Promise<unknown> {
    const started = Date.now();
    const jobId = job.id ?? '';
    let lastProgress = 0;
    const send = (message: ProgressMessage) => job.updateProgress({ ...message, progress: lastProgress });
    const execution = await executeAttempt(
      this.registry.get(name),
      {
        id: jobId,
        name,
        payload: job.data,
        attempt: job.attemptsMade + 1,
        maxAttempts: job.opts.attempts ?? 1,
      },
      signal ?? new AbortController().signal,
      {
        progress: async (progress, text) => {
          lastProgress = progress;
          await send({ event: 'job.progress', payload: { jobId, name, progress, message: text } });
        },
        emit: async (event, payload) => send({ event, payload } as ProgressMessage),
      },
    );
    this.metrics.jobs.inc({ name, outcome: execution.outcome });
    this.metrics.jobDuration.observe({ name }, (Date.now() - started) / 1000);
    switch (execution.outcome) {
      case JobOutcome.Completed:
        return execution.result;
      case JobOutcome.Cancelled:
        throw new UnrecoverableError(`${CANCELLED_REASON} ${execution.error ?? ''}`.trim());
      case JobOutcome.Failed:
        throw new UnrecoverableError(execution.error ?? 'failed');
      case JobOutcome.Retried:
        await send({
          event: 'job.failed',
          payload: { jobId, name, error: execution.error ?? 'failed', willRetry: true },
        });
        throw new Error(execution.error ?? 'failed');
    }
  }
}
