import { SetMetadata } from '@nestjs/common';
import type { ProgressEventMap, ProgressEventName } from '../events/progress-events.js';
import type { JobName, JobPayloads } from './job-name.js';

export interface JobContext {
  jobId: string;
  name: JobName;
  /** 1 on the first try. */
  attempt: number;
  maxAttempts: number;
  /** Aborted when the job is cancelled; handlers check it between steps and stop with `JobCancelledError`. */
  signal: AbortSignal;
  /**
   * Aborted when this process is stopping: a handler that has not begun its real work yet (a generation still waiting
   * for a backend) stops with `JobHandedBackError`, and the job goes back to the queue for another process. Work that
   * has begun ignores it and finishes.
   */
  handBack: AbortSignal;
  /** Reports overall progress (0..1); becomes a `job.progress` event. */
  progress(progress: number, message?: string): Promise<void>;
  /** Sends a feature event (e.g. `generation.progress`) to the clients subscribed to this job or its topic. */
  emit<E extends ProgressEventName>(event: E, payload: ProgressEventMap[E]): Promise<void>;
}

export interface JobHandler<N extends JobName = JobName> {
  handle(payload: JobPayloads[N], context: JobContext): Promise<unknown>;
}

/** Thrown by a handler that saw its signal aborted: the job ends `cancelled`, never retried. */
export class JobCancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'JobCancelledError';
  }
}

/** Thrown by a handler that saw `handBack` before it began: the job is queued again as it was, no attempt spent. */
export class JobHandedBackError extends Error {
  constructor(message = 'handed back before it started: this process is stopping') {
    super(message);
    this.name = 'JobHandedBackError';
  }
}

/** Thrown for a failure that no retry can fix (bad payload, row gone): the job fails at once. */
export class UnrecoverableJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnrecoverableJobError';
  }
}

export const JOB_HANDLER_METADATA = 'lora-manager:job-handler';

/** Marks a provider as the handler of one job name; the registry finds it at start-up. */
export const JobHandlerFor = (name: JobName): ClassDecorator => SetMetadata(JOB_HANDLER_METADATA, name);
