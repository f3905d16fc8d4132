import { hostname } from 'node:os';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
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
  JobRunLog,
  MetricsService,
  onSecondSignal,
  type ProgressMessage,
  signalExitCode,
} from '@app/core';
import { type Job, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';

/** A job this process holds: its BullMQ lock token, and the signal that asks it to hand itself back. */
interface HeldJob {
  job: Job;
  token: string;
  handBack: AbortController;
}

/**
 * The worker's only job: take BullMQ jobs and hand each to its handler. Progress and feature events travel
 * back through `job.updateProgress`, which every API instance receives from `QueueEvents`.
 *
 * On SIGTERM it takes no new job, hands back the jobs it holds that have not begun (a generation waiting for a
 * backend) and lets the running ones finish; a second SIGTERM or SIGINT hands back the running ones too and exits at
 * once. A handed-back job goes to the waiting list again, for another worker, with no attempt spent.
 */
@Injectable()
export class JobProcessor implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(JobProcessor.name);
  private readonly workers: Worker[] = [];
  private readonly held = new Map<string, HeldJob>();
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
      const worker = new Worker(name, (job, token, signal) => this.process(name, job, token ?? '', signal), {
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
    this.subscriber = await createRedis(this.redis.url);
    this.subscriber.on('error', (error: Error) => this.logger.warn(`Redis (cancel channel): ${error.message}`));
    this.subscriber.on('message', (_channel: string, message: string) => this.onCancel(message));
    await this.subscriber.subscribe(cancelChannel(this.redis.prefix));
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
    this.logger.log(`Processing ${ALL_JOB_NAMES.join(', ')} with prefix "${this.redis.prefix}"`);
  }

  /** Runs before the database and Redis close: running jobs finish while they are still there. */
  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.logger.log(`${signal ?? 'Shutdown'}: finishing ${this.held.size} job(s); no new job is taken`);
    const stop = onSecondSignal((second) => void this.abandon(second));
    // close() stops fetching at once and resolves when the jobs in hand have ended.
    const closed = Promise.allSettled(this.workers.map((w) => w.close()));
    for (const held of this.held.values()) held.handBack.abort();
    await closed;
    stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscriber?.quit().catch(() => undefined);
    await Promise.allSettled(this.workers.map((w) => w.close()));
  }

  /** Second signal: every job still held goes back to the waiting list now, then the process exits. */
  private async abandon(signal: NodeJS.Signals): Promise<void> {
    const held = [...this.held.values()];
    this.logger.warn(`${signal} again: handing back ${held.length} running job(s) and exiting now`);
    const handed = held.map(({ job, token }) =>
      job.moveToWait(token).then(
        () => this.logger.warn(`Job ${job.name} ${job.id ?? ''} handed back while running`),
        (error: unknown) =>
          this.logger.warn(`Job ${job.name} ${job.id ?? ''} could not be handed back: ${String(error)}`),
      ),
    );
    await Promise.race([Promise.all(handed), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
    process.exit(signalExitCode(signal));
  }

  private onCancel(message: string): void {
    try {
      const { id } = JSON.parse(message) as { id: string };
      for (const worker of this.workers) worker.cancelJob(id, 'cancelled');
    } catch {
      this.logger.warn('Ignored a malformed cancel message');
    }
  }

  private async process(name: JobName, job: Job, token: string, signal: AbortSignal | undefined): Promise<unknown> {
    const jobId = job.id ?? '';
    const handBack = new AbortController();
    this.held.set(jobId, { job, token, handBack });
    try {
      return await this.run(name, job, token, signal, handBack.signal);
    } finally {
      this.held.delete(jobId);
    }
  }

  private async run(
    name: JobName,
    job: Job,
    token: string,
    signal: AbortSignal | undefined,
    handBack: AbortSignal,
  ): Promise<unknown> {
    const jobId = job.id ?? '';
    let lastProgress = 0;
    const send = (message: ProgressMessage) => job.updateProgress({ ...message, progress: lastProgress });
    const attempt = { id: jobId, name, attempt: job.attemptsMade + 1, maxAttempts: job.opts.attempts ?? 1 };
    const log = new JobRunLog(this.logger, attempt);
    const execution = await executeAttempt(
      this.registry.get(name),
      { ...attempt, payload: job.data },
      { cancel: signal ?? new AbortController().signal, handBack },
      {
        progress: async (progress, text) => {
          lastProgress = progress;
          await send({ event: 'job.progress', payload: { jobId, name, progress, message: text } });
        },
        emit: async (event, payload) => send({ event, payload } as ProgressMessage),
      },
    );
    log.ended(execution);
    this.metrics.jobs.inc({ name, outcome: execution.outcome });
    this.metrics.jobDuration.observe({ name }, log.durationMs / 1000);
    switch (execution.outcome) {
      case JobOutcome.Completed:
        return execution.result;
      case JobOutcome.HandedBack:
        // Back to the front of the waiting list with no attempt spent; WaitingError tells BullMQ it was moved, not ended.
        await job.moveToWait(token);
        throw new WaitingError();
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
