import { Injectable } from '@nestjs/common';
import {
  type GenerationPayload,
  JobCancelledError,
  type JobContext,
  JobHandedBackError,
  type JobHandler,
  JobHandlerFor,
  JobName,
  UnrecoverableJobError,
} from '@app/core';
import { GenerationRunner } from './generation.runner.js';

/** Queue adapter of {@link GenerationRunner}: turns its outcome into the job runner's complete/cancel/retry/fail. */
@Injectable()
@JobHandlerFor(JobName.Generation)
export class GenerationJobHandler implements JobHandler<JobName.Generation> {
  constructor(private readonly runner: GenerationRunner) {}

  async handle(payload: GenerationPayload, context: JobContext): Promise<{ status: string; images?: number }> {
    const outcome = await this.runner.run(payload.jobId, {
      signal: context.signal,
      handBack: context.handBack,
      attempt: context.attempt,
      maxAttempts: context.maxAttempts,
      emit: (event, body) => context.emit(event, body),
    });
    switch (outcome.kind) {
      case 'succeeded':
        return { status: outcome.job.status, images: outcome.images.length };
      case 'skipped':
        return { status: outcome.job.status };
      case 'missing':
        throw new UnrecoverableJobError(`generation job ${payload.jobId} does not exist`);
      case 'cancelled':
        throw new JobCancelledError(outcome.reason);
      case 'handedBack':
        throw new JobHandedBackError();
      case 'retry':
        throw new Error(outcome.reason);
      case 'failed':
        throw new UnrecoverableJobError(outcome.reason);
    }
  }
}
