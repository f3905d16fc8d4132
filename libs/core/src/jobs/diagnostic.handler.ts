import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { JobCancelledError, type JobContext, type JobHandler, JobHandlerFor } from './job-handler.js';
import { type DiagnosticPayload, JobName } from './job-name.js';

/** Proves the job pipeline: steps with progress, optional injected failures, honours cancel. */
@Injectable()
@JobHandlerFor(JobName.Diagnostic)
export class DiagnosticJobHandler implements JobHandler<JobName.Diagnostic> {
  async handle(
    payload: DiagnosticPayload,
    context: JobContext,
  ): Promise<{ steps: number; attempt: number; pid: number }> {
    for (let step = 1; step <= payload.steps; step++) {
      if (context.signal.aborted) throw new JobCancelledError();
      await sleep(payload.stepMs, undefined, { signal: context.signal }).catch(() => {
        throw new JobCancelledError();
      });
      if (payload.failAtStep === step && context.attempt <= (payload.failAttempts ?? Number.MAX_SAFE_INTEGER)) {
        throw new Error(`diagnostic failure injected at step ${step} (attempt ${context.attempt})`);
      }
      await context.progress(step / payload.steps, `step ${step}/${payload.steps}`);
    }
    return { steps: payload.steps, attempt: context.attempt, pid: process.pid };
  }
}
