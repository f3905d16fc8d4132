import type { ProgressEventMap, ProgressEventName } from '../events/progress-events.js';
import { JobCancelledError, type JobContext, type JobHandler, UnrecoverableJobError } from './job-handler.js';
import type { JobName } from './job-name.js';

export enum JobOutcome {
  Completed = 'completed',
  Failed = 'failed',
  Retried = 'retried',
  Cancelled = 'cancelled',
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
  signal: AbortSignal,
  sinks: ExecutionSinks,
): Promise<ExecutionResult> {
  const context: JobContext = {
    jobId: job.id,
    name: job.name,
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
    signal,
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
    if (error instanceof UnrecoverableJobError || job.attempt >= job.maxAttempts) {
      return { outcome: JobOutcome.Failed, error: reasonOf(error) };
    }
    return { outcome: JobOutcome.Retried, error: reasonOf(error) };
  }
}
