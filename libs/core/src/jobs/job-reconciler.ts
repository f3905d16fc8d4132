import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { BullmqJobQueue, RestoreOutcome } from './bullmq-job-queue.js';
import type { JobName } from './job-name.js';
import { QUEUED_JOB_SOURCE_METADATA, QueuedJobSource } from './queued-job-source.js';
import { errorMessage } from '../errors/domain-error.js';

const PAGE = 500;

export interface ReconcileReport {
  /** Re-enqueued per job name (Redis had lost them). */
  requeued: Partial<Record<JobName, number>>;
  /** `queued` rows whose job Redis holds as completed or failed: not re-run (the id is taken), only reported. */
  finished: Partial<Record<JobName, number>>;
}

/**
 * Scale-out mode only, in API processes only (see `JobsModule`): Redis is the queue there, and a Redis that lost
 * its data (restart without persistence, failover, FLUSHALL) would leave rows `queued` forever. At start-up and
 * every `JOB_RECONCILE_INTERVAL_SECONDS` this re-applies the queues' global concurrency and re-enqueues, with the
 * same job id, every row that has been `queued` for longer than `JOB_REQUEUE_AFTER_SECONDS` and whose job Redis
 * no longer knows. Several API instances may run it at once: re-enqueueing an existing id is a no-op in BullMQ.
 */
@Injectable()
export class JobReconciler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(JobReconciler.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private sources?: QueuedJobSource[];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly queue: BullmqJobQueue,
    private readonly metrics: MetricsService,
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
  ) {}

  onApplicationBootstrap(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.config.jobs.reconcileIntervalMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Starts a pass unless one is still running; never throws (a failed pass is logged and retried next tick). */
  private tick(): void {
    if (this.running) return;
    this.running = this.reconcile()
      .then(() => undefined)
      .catch((error: unknown) => this.logger.warn(`Job reconcile failed: ${errorMessage(error)}`))
      .finally(() => (this.running = undefined));
  }

  /** One pass over every source; returns what it did. */
  async reconcile(now = new Date()): Promise<ReconcileReport> {
    await this.queue.applyGlobalConcurrency();
    const olderThan = new Date(now.getTime() - this.config.jobs.requeueAfterMs);
    const report: ReconcileReport = { requeued: {}, finished: {} };
    for (const source of this.collect()) {
      const { requeued, finished } = await this.reconcileSource(source, olderThan);
      if (requeued > 0) {
        report.requeued[source.jobName] = requeued;
        this.metrics.jobsRequeued.inc({ name: source.jobName }, requeued);
        this.logger.warn(`Re-queued ${requeued} "${source.jobName}" job(s) that Redis had lost`);
      }
      if (finished > 0) {
        report.finished[source.jobName] = finished;
        this.logger.warn(
          `${finished} "${source.jobName}" row(s) are queued but Redis holds their job as finished; left alone`,
        );
      }
    }
    return report;
  }

  private async reconcileSource<N extends JobName>(
    source: QueuedJobSource<N>,
    olderThan: Date,
  ): Promise<{ requeued: number; finished: number }> {
    let requeued = 0;
    let finished = 0;
    let afterId: string | undefined;
    for (;;) {
      const rows = await source.findQueued({ olderThan, afterId, limit: PAGE });
      const outcomes = await Promise.all(rows.map((row) => this.queue.restore(source.jobName, row.jobId, row.payload)));
      requeued += outcomes.filter((o) => o === RestoreOutcome.Restored).length;
      finished += outcomes.filter((o) => o === RestoreOutcome.Finished).length;
      if (rows.length < PAGE) return { requeued, finished };
      afterId = rows[rows.length - 1].jobId;
    }
  }

  private collect(): QueuedJobSource[] {
    if (this.sources) return this.sources;
    const found: QueuedJobSource[] = [];
    for (const wrapper of this.discovery.getProviders()) {
      const metatype: unknown = wrapper.metatype;
      const instance: unknown = wrapper.instance;
      if (!metatype || !instance || typeof metatype !== 'function') continue;
      const name = this.reflector.get<JobName | undefined>(QUEUED_JOB_SOURCE_METADATA, metatype as new () => unknown);
      if (!name) continue;
      const source = instance as QueuedJobSource;
      if (!(instance instanceof QueuedJobSource) || source.jobName !== name) {
        throw new Error(`${metatype.name} is marked as the queued-job source of "${name}" but is not one`);
      }
      if (!found.includes(source)) found.push(source);
    }
    this.sources = found;
    return found;
  }
}
