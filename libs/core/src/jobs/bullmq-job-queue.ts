import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { EventBus } from '../events/event-bus.js';
import { isProgressMessage } from '../events/progress-events.js';
import { bullConnection, CANCELLED_REASON, cancelChannel, redisOptions } from './bullmq-connection.js';
import { JOBS_OPTIONS, type JobsOptions } from './jobs-options.js';
import { ALL_JOB_NAMES, JOB_RUN_OPTIONS, type JobName, type JobPayloads, JobStatus } from './job-name.js';
import { CancelOutcome, type EnqueueOptions, type JobInfo, JobQueue, type QueueDepth } from './job-queue.js';

/**
 * Scale-out mode's producer and reader: one BullMQ queue per job name on Redis. Each API instance also
 * listens to every queue's `QueueEvents` and forwards progress and outcomes to its own Socket.IO clients
 * through the event bus, so a client sees every event exactly once whichever instance it is connected to.
 */
@Injectable()
export class BullmqJobQueue extends JobQueue implements OnModuleInit, OnApplicationShutdown {
  readonly mode = 'bullmq' as const;
  private readonly logger = new Logger(BullmqJobQueue.name);
  private readonly connection: Redis;
  private readonly queues = new Map<JobName, Queue>();
  private readonly events: QueueEvents[] = [];
  private readonly redis: { url: string; prefix: string };

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(JOBS_OPTIONS) private readonly options: JobsOptions,
    private readonly bus: EventBus,
  ) {
    super();
    if (!config.redis) throw new Error('BullmqJobQueue needs REDIS_URL');
    this.redis = config.redis;
    this.connection = new Redis(this.redis.url, redisOptions());
    this.connection.on('error', (error: Error) => this.logger.warn(`Redis: ${error.message}`));
    for (const name of ALL_JOB_NAMES) {
      this.queues.set(name, new Queue(name, { connection: this.connection, prefix: this.redis.prefix }));
    }
  }

  async onModuleInit(): Promise<void> {
    await this.applyGlobalConcurrency();
    // Only API instances have Socket.IO clients to forward events to.
    if (!this.options.forwardEvents) return;
    for (const name of ALL_JOB_NAMES) {
      const events = new QueueEvents(name, {
        connection: bullConnection(this.redis.url),
        prefix: this.redis.prefix,
      });
      events.on('error', (error: Error) => this.logger.warn(`Redis (events): ${error.message}`));
      events.on('progress', ({ jobId, data }) => {
        if (isProgressMessage(data)) this.bus.publishMessage(data);
        else if (typeof data === 'number') this.bus.publish('job.progress', { jobId, name, progress: data });
      });
      events.on('completed', ({ jobId, returnvalue }) => {
        this.bus.publish('job.completed', { jobId, name, result: returnvalue });
      });
      events.on('failed', ({ jobId, failedReason }) => {
        if (failedReason.startsWith(CANCELLED_REASON)) this.bus.publish('job.cancelled', { jobId, name });
        else this.bus.publish('job.failed', { jobId, name, error: failedReason, willRetry: false });
      });
      this.events.push(events);
    }
    await Promise.all(this.events.map((e) => e.waitUntilReady()));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled(this.events.map((e) => e.close()));
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    await this.connection.quit().catch(() => undefined);
  }

  private queue(name: JobName): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`Unknown job name ${name}`);
    return queue;
  }

  async enqueue<N extends JobName>(
    name: N,
    payload: JobPayloads[N],
    options: EnqueueOptions = {},
  ): Promise<{ id: string }> {
    const run = JOB_RUN_OPTIONS[name];
    const job = await this.queue(name).add(name, payload, {
      jobId: options.jobId ?? randomUUID(),
      delay: options.delayMs,
      attempts: run.attempts,
      backoff: { type: 'exponential', delay: run.backoffMs },
      removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
      removeOnFail: { age: 30 * 24 * 3600 },
    });
    return { id: job.id ?? '' };
  }

  /** Stores each job name's cross-worker limit in Redis; re-applied by the reconciler, since Redis may lose it. */
  async applyGlobalConcurrency(): Promise<void> {
    for (const name of ALL_JOB_NAMES) {
      const limit = JOB_RUN_OPTIONS[name].globalConcurrency;
      if (limit !== undefined) await this.queue(name).setGlobalConcurrency(limit);
    }
  }

  /**
   * Enqueues a job again under its own id unless Redis still knows that id. BullMQ's add is a no-op for an id
   * whose job hash exists, whatever its state (waiting, delayed, active, completed, failed), so a job that is
   * there, or already ran, is never run twice; the state check only tells the caller which case it was.
   */
  async restore<N extends JobName>(name: N, jobId: string, payload: JobPayloads[N]): Promise<RestoreOutcome> {
    const state = await this.queue(name).getJobState(jobId);
    if (state === 'completed' || state === 'failed') return RestoreOutcome.Finished;
    if (state !== 'unknown') return RestoreOutcome.Present;
    await this.enqueue(name, payload, { jobId });
    return RestoreOutcome.Restored;
  }

  async get(name: JobName, id: string): Promise<JobInfo | null> {
    // The state before the job: BullMQ writes a result together with the finished state, so a job that finishes
    // between the two reads shows as still running, never as finished without its result.
    const state = await this.queue(name).getJobState(id);
    const job = await this.queue(name).getJob(id);
    if (!job) return null;
    return toJobInfo(name, job, state);
  }

  async cancel(name: JobName, id: string): Promise<CancelOutcome> {
    const job = await this.queue(name).getJob(id);
    if (!job) return CancelOutcome.NotFound;
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') return CancelOutcome.AlreadyFinished;
    if (state !== 'active') {
      try {
        await job.remove();
        this.bus.publish('job.cancelled', { jobId: id, name });
        return CancelOutcome.Removed;
      } catch {
        // It became active (locked by a worker) between the two calls: signal it instead.
      }
    }
    await this.connection.publish(cancelChannel(this.redis.prefix), JSON.stringify({ name, id }));
    return CancelOutcome.Signalled;
  }

  async depths(): Promise<QueueDepth[]> {
    return Promise.all(
      [...this.queues].map(async ([name, queue]) => {
        const counts = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed');
        return {
          name,
          waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
          active: counts.active ?? 0,
          delayed: counts.delayed ?? 0,
        };
      }),
    );
  }

  async ping(): Promise<void> {
    await this.connection.ping();
  }
}

export enum RestoreOutcome {
  /** Redis had lost it: enqueued again. */
  Restored = 'restored',
  /** Redis still has it waiting, delayed or running: left alone. */
  Present = 'present',
  /** Redis has it completed or failed: left alone (enqueueing that id again would be a no-op anyway). */
  Finished = 'finished',
}

function toJobInfo(name: JobName, job: Job, state: string): JobInfo {
  const cancelled = state === 'failed' && (job.failedReason ?? '').startsWith(CANCELLED_REASON);
  const status: JobStatus =
    state === 'completed'
      ? JobStatus.Completed
      : cancelled
        ? JobStatus.Cancelled
        : state === 'failed'
          ? JobStatus.Failed
          : state === 'active'
            ? JobStatus.Running
            : JobStatus.Queued;
  const raw: unknown = job.progress;
  const reported =
    typeof raw === 'number'
      ? raw
      : typeof raw === 'object' && raw !== null && typeof (raw as { progress?: unknown }).progress === 'number'
        ? (raw as { progress: number }).progress
        : 0;
  const progress = status === JobStatus.Completed ? 1 : reported;
  return {
    id: job.id ?? '',
    name,
    status,
    progress,
    attempts: job.attemptsMade,
    result: job.returnvalue ?? null,
    // failedReason survives a successful retry; report it only for jobs that ended badly.
    error:
      (status === JobStatus.Failed || status === JobStatus.Cancelled) && job.failedReason
        ? job.failedReason.replace(CANCELLED_REASON, '').trim() || job.failedReason
        : null,
    createdAt: new Date(job.timestamp),
    finishedAt: job.finishedOn ? new Date(job.finishedOn) : null,
  };
}
