import type { JobName, JobPayloads, JobStatus } from './job-name.js';

export interface EnqueueOptions {
  /** Own id (uuid recommended); dedupes: enqueueing an id twice keeps the first job. */
  jobId?: string;
  /** Run no earlier than this many milliseconds from now. */
  delayMs?: number;
}

export interface JobInfo {
  id: string;
  name: JobName;
  status: JobStatus;
  progress: number;
  attempts: number;
  result: unknown;
  error: string | null;
  createdAt: Date | null;
  finishedAt: Date | null;
}

export enum CancelOutcome {
  /** It had not started: removed from the queue. */
  Removed = 'removed',
  /** It was running: its handler was signalled and will stop. */
  Signalled = 'signalled',
  AlreadyFinished = 'already_finished',
  NotFound = 'not_found',
}

/** How many jobs of one name wait, run or wait for a retry or a delay, right now. */
export interface QueueDepth {
  name: JobName;
  waiting: number;
  active: number;
  delayed: number;
}

/** The one producer facade and job-state reader. Embedded and scale-out modes implement it. */
export abstract class JobQueue {
  abstract enqueue<N extends JobName>(
    name: N,
    payload: JobPayloads[N],
    options?: EnqueueOptions,
  ): Promise<{ id: string }>;
  abstract get(name: JobName, id: string): Promise<JobInfo | null>;
  abstract cancel(name: JobName, id: string): Promise<CancelOutcome>;
  /** Every job name's depth (`queued_jobs` rows in embedded mode, BullMQ's counts in scale-out). */
  abstract depths(): Promise<QueueDepth[]>;
  /** Readiness probe of the queue's backing store. */
  abstract ping(): Promise<void>;
  abstract readonly mode: 'in-process' | 'bullmq';
}
