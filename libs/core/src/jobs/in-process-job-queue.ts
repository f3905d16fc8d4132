import { randomUUID } from 'node:crypto';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { EventBus } from '../events/event-bus.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { JOBS_OPTIONS, type JobsOptions } from './jobs-options.js';
import { JobHandlerRegistry } from './job-handler.registry.js';
import { executeAttempt, JobOutcome, JobRunLog } from './job-executor.js';
import { onSecondSignal, signalExitCode } from './shutdown-signals.js';
import { ALL_JOB_NAMES, JOB_RUN_OPTIONS, type JobName, type JobPayloads, JobStatus } from './job-name.js';
import { CancelOutcome, type EnqueueOptions, type JobInfo, JobQueue, type QueueDepth } from './job-queue.js';
import type { QueuedJobEntity } from './queued-job.entity.js';
import { QueuedJobRepository } from './queued-job.repository.js';

const POLL_MS = 1000;

/**
 * Embedded mode's job runner: jobs live in the `queued_jobs` table and run in this process. Jobs that were
 * queued or running when the process died run again after a restart. One process only: it takes back every
 * `running` row at start-up.
 */
@Injectable()
export class InProcessJobQueue extends JobQueue implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly mode = 'in-process' as const;
  private readonly logger = new Logger(InProcessJobQueue.name);
  private readonly running = new Map<
    string,
    { name: JobName; controller: AbortController; handBack: AbortController; done: Promise<void> }
  >();
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private stopping = false;
  private pumping = false;
  private pumpAgain = false;

  constructor(
    @Inject(JOBS_OPTIONS) private readonly options: JobsOptions,
    private readonly repository: QueuedJobRepository,
    private readonly registry: JobHandlerRegistry,
    private readonly bus: EventBus,
    private readonly metrics: MetricsService,
  ) {
    super();
  }

  async onApplicationBootstrap(): Promise<void> {
    // A producer-only process (the CLI) writes rows that the running API picks up.
    if (!this.options.runJobs) return;
    this.registry.assertComplete();
    const requeued = await this.repository.requeueRunning();
    if (requeued > 0) this.logger.warn(`Re-queued ${requeued} job(s) interrupted by the last shutdown`);
    this.started = true;
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.timer.unref();
    this.kick();
  }

  /**
   * Runs before the database closes: takes no new job, hands back the jobs that have not begun, and lets the running
   * ones finish. A second SIGTERM or SIGINT stops at once; the rows still `running` are queued again (now, and by the
   * next start in any case).
   */
  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    if (!this.started) return;
    this.logger.log(`${signal ?? 'Shutdown'}: finishing ${this.running.size} job(s); no new job is started`);
    const stop = onSecondSignal((second) => void this.abandon(second));
    for (const r of this.running.values()) r.handBack.abort();
    await Promise.all([...this.running.values()].map((r) => r.done));
    stop();
  }

  private async abandon(signal: NodeJS.Signals): Promise<void> {
    this.logger.warn(`${signal} again: handing back ${this.running.size} running job(s) and exiting now`);
    const requeued = await Promise.race([
      this.repository.requeueRunning().catch(() => 0),
      new Promise<number>((resolve) => setTimeout(() => resolve(0), 2_000).unref()),
    ]);
    this.logger.warn(`Handed back ${requeued} job(s)`);
    process.exit(signalExitCode(signal));
  }

  async enqueue<N extends JobName>(
    name: N,
    payload: JobPayloads[N],
    options: EnqueueOptions = {},
  ): Promise<{ id: string }> {
    const now = new Date();
    const id = options.jobId ?? randomUUID();
    await this.repository.insertIfAbsent({
      id,
      name,
      payload,
      status: JobStatus.Queued,
      attempts: 0,
      maxAttempts: JOB_RUN_OPTIONS[name].attempts,
      runAfter: new Date(now.getTime() + (options.delayMs ?? 0)),
      progress: 0,
      result: null,
      error: null,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
    });
    this.kick();
    return { id };
  }

  async get(name: JobName, id: string): Promise<JobInfo | null> {
    const row = await this.repository.findById(id);
    if (!row || row.name !== (name as string)) return null;
    return {
      id: row.id,
      name,
      status: row.status,
      progress: row.progress,
      attempts: row.attempts,
      result: (row.result as { value?: unknown } | null)?.value ?? null,
      error: row.error,
      createdAt: row.createdAt,
      finishedAt: row.finishedAt,
    };
  }

  async cancel(name: JobName, id: string): Promise<CancelOutcome> {
    const active = this.running.get(id);
    if (active) {
      active.controller.abort();
      return CancelOutcome.Signalled;
    }
    const row = await this.repository.findById(id);
    if (!row || row.name !== (name as string)) return CancelOutcome.NotFound;
    if (row.status === JobStatus.Queued && (await this.repository.cancelQueued(id))) {
      this.bus.publish('job.cancelled', { jobId: id, name });
      this.metrics.jobs.inc({ name, outcome: JobOutcome.Cancelled });
      return CancelOutcome.Removed;
    }
    const again = this.running.get(id);
    if (again) {
      again.controller.abort();
      return CancelOutcome.Signalled;
    }
    return CancelOutcome.AlreadyFinished;
  }

  async depths(): Promise<QueueDepth[]> {
    const rows = await this.repository.depths(new Date());
    return ALL_JOB_NAMES.map((name) => {
      const of = (state: 'waiting' | 'active' | 'delayed') =>
        rows.find((r) => r.name === (name as string) && r.state === state)?.count ?? 0;
      return { name, waiting: of('waiting'), active: of('active'), delayed: of('delayed') };
    });
  }

  async ping(): Promise<void> {
    await this.repository.findById('00000000-0000-0000-0000-000000000000');
  }

  /** Wakes the pump; calls while it runs make it go round once more. */
  private kick(): void {
    if (!this.started || this.stopping) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    void this.pump()
      .catch((error: unknown) => this.logger.error(`Job pump failed: ${String(error)}`))
      .finally(() => {
        this.pumping = false;
        if (this.pumpAgain) {
          this.pumpAgain = false;
          this.kick();
        }
      });
  }

  private async pump(): Promise<void> {
    // One query says which queues have work; each job's end and each enqueue pumps, so asking every queue in
    // turn would cost a query per job name each time.
    const due = await this.repository.dueNames(new Date());
    for (const name of ALL_JOB_NAMES) {
      if (!due.has(name)) continue;
      const limit = JOB_RUN_OPTIONS[name].concurrency;
      while (!this.stopping && this.countRunning(name) < limit) {
        const job = await this.repository.claimNext(name, new Date());
        if (!job) break;
        this.start(job);
      }
    }
  }

  private countRunning(name: JobName): number {
    let n = 0;
    for (const r of this.running.values()) if (r.name === name) n++;
    return n;
  }

  private start(job: QueuedJobEntity): void {
    const name = job.name as JobName;
    const controller = new AbortController();
    const handBack = new AbortController();
    const done = this.run(job, name, controller, handBack).finally(() => {
      this.running.delete(job.id);
      this.kick();
    });
    this.running.set(job.id, { name, controller, handBack, done });
  }

  private async run(
    job: QueuedJobEntity,
    name: JobName,
    controller: AbortController,
    handBack: AbortController,
  ): Promise<void> {
    const attempt = { id: job.id, name, attempt: job.attempts, maxAttempts: job.maxAttempts };
    const log = new JobRunLog(this.logger, attempt);
    const handler = this.registry.get(name);
    const execution = await executeAttempt(
      handler,
      { ...attempt, payload: job.payload },
      { cancel: controller.signal, handBack: handBack.signal },
      {
        progress: async (progress, message) => {
          await this.repository.setProgress(job.id, progress);
          this.bus.publish('job.progress', { jobId: job.id, name, progress, message });
        },
        emit: (event, payload) => {
          this.bus.publish(event, payload);
          return Promise.resolve();
        },
      },
    );
    log.ended(execution);
    this.metrics.jobs.inc({ name, outcome: execution.outcome });
    this.metrics.jobDuration.observe({ name }, log.durationMs / 1000);
    switch (execution.outcome) {
      case JobOutcome.Completed:
        await this.repository.finish(job.id, JobStatus.Completed, { result: execution.result });
        this.bus.publish('job.completed', { jobId: job.id, name, result: execution.result });
        return;
      case JobOutcome.Cancelled:
        await this.repository.finish(job.id, JobStatus.Cancelled, { error: execution.error ?? 'cancelled' });
        this.bus.publish('job.cancelled', { jobId: job.id, name });
        return;
      case JobOutcome.Failed:
        await this.repository.finish(job.id, JobStatus.Failed, { error: execution.error });
        this.bus.publish('job.failed', { jobId: job.id, name, error: execution.error ?? 'failed', willRetry: false });
        return;
      case JobOutcome.HandedBack:
        await this.repository.handBack(job.id, job.attempts - 1);
        return;
      case JobOutcome.Retried: {
        const delay = JOB_RUN_OPTIONS[name].backoffMs * 2 ** (job.attempts - 1);
        await this.repository.retryLater(job.id, new Date(Date.now() + delay), execution.error ?? 'failed');
        this.bus.publish('job.failed', { jobId: job.id, name, error: execution.error ?? 'failed', willRetry: true });
        setTimeout(() => this.kick(), delay + 5).unref();
        return;
      }
    }
  }
}
