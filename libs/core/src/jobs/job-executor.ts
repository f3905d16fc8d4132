import type { ProgressEventMap, ProgressEventName } from '../events/progress-events.js';
import {
  JobCancelledError,
  type JobContext,
  type JobHandler,
  JobHandedBackError,
  UnrecoverableJobError,
} from './job-handler.js';
import type { JobName } from './job-name.js';

export enum JobOutcome {
  Completed = 'completed',
  Failed = 'failed',
  Retried = 'retried',
  Cancelled = 'cancelled',
  /** It had not begun when its process began stopping: queued again for another process, no attempt spent. */
  HandedBack = 'handed_back',
}

export interface ExecutionResult {
  outcome: JobOutcome;
  result?: unknown;
  error?: string;
}

export interface ExecutionSinks {
  progress(progress: number, message?: string): Promise<void>;
  emit<E extends ProgressEventName>(event: E, payload: ProgressEventMap[E]): Promise<void>;
}

/** A readable one-line reason for a failure, never a stack. */
export function reasonOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

/**
 * Runs one attempt of a handler with the same rules in both modes: a cancel becomes `cancelled`, an
 * unrecoverable error or the last attempt becomes `failed`, anything else is retried.
 */
export async function executeAttempt(
  handler: JobHandler,
  job: { id: string; name: JobName; payload: unknown; attempt: number; maxAttempts: number },
  signals: { cancel: AbortSignal; handBack: AbortSignal },
  sinks: ExecutionSinks,
): Promise<ExecutionResult> {
  const signal = signals.cancel;
  const context: JobContext = {
    jobId: job.id,
    name: job.name,
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
    signal,
    handBack: signals.handBack,
    progress: (p, message) => sinks.progress(Math.max(0, Math.min(1, p)), message),
    emit: (event, payload) => sinks.emit(event, payload),
  };
  try {
    const result = await handler.handle(job.payload as never, context);
    if (signal.aborted) return { outcome: JobOutcome.Cancelled, error: 'cancelled' };
    return { outcome: JobOutcome.Completed, result };
  } catch (error) {
    if (error instanceof JobCancelledError || signal.aborted) {
      return { outcome: JobOutcome.Cancelled, error: reasonOf(error) };
    }
    if (error instanceof JobHandedBackError) return { outcome: JobOutcome.HandedBack, error: reasonOf(error) };
    if (error instanceof UnrecoverableJobError || job.attempt >= job.maxAttempts) {
      return { outcome: JobOutcome.Failed, error: reasonOf(error) };
    }
    return { outcome: JobOutcome.Retried, error: reasonOf(error) };
  }
}

/** One log line per job start and end, the same in the worker and in the embedded runner. */
export class JobRunLog {
  private readonly started = Date.now();

  constructor(
    private readonly logger: { log(message: string): void; warn(message: string): void },
    private readonly job: { id: string; name: JobName; attempt: number; maxAttempts: number },
  ) {
    logger.log(`Job ${job.name} ${job.id} started (attempt ${job.attempt}/${job.maxAttempts})`);
  }

  get durationMs(): number {
    return Date.now() - this.started;
  }

  ended(execution: ExecutionResult): void {
    const what = `Job ${this.job.name} ${this.job.id}`;
    const after = `after ${(this.durationMs / 1000).toFixed(2)} s`;
    switch (execution.outcome) {
      case JobOutcome.Completed:
        this.logger.log(`${what} completed in ${(this.durationMs / 1000).toFixed(2)} s`);
        return;
      case JobOutcome.Cancelled:
        this.logger.log(`${what} cancelled ${after}`);
        return;
      case JobOutcome.HandedBack:
        this.logger.log(`${what} handed back ${after}: not started, queued again for another process`);
        return;
      case JobOutcome.Failed:
        this.logger.warn(`${what} failed ${after}: ${execution.error ?? 'failed'}`);
        return;
      case JobOutcome.Retried:
        this.logger.warn(`${what} failed ${after}, will retry: ${execution.error ?? 'failed'}`);
        return;
    }
  }
}
