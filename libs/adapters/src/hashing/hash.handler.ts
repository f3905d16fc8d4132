import { Injectable } from '@nestjs/common';
import {
  type HashPayload,
  type JobContext,
  type JobHandler,
  JobHandlerFor,
  JobName,
  UnrecoverableJobError,
} from '@app/core';
import { HashRunStatus } from './hash-run.entity.js';
import { HashRunRepository } from './hash-run.repository.js';
import { HashRunService } from './hash-run.service.js';

/**
 * Runs one hash run. A retry, or the run taken up again after a restart, starts with what is still unhashed: rows
 * are written as files are hashed. A run that has ended does nothing.
 */
@Injectable()
@JobHandlerFor(JobName.Hash)
export class HashJobHandler implements JobHandler<JobName.Hash> {
  constructor(
    private readonly runs: HashRunRepository,
    private readonly service: HashRunService,
  ) {}

  async handle(payload: HashPayload, context: JobContext): Promise<unknown> {
    const run = await this.runs.findById(payload.jobId);
    if (!run) throw new UnrecoverableJobError(`hash run ${payload.jobId} does not exist`);
    if (run.status !== HashRunStatus.Queued && run.status !== HashRunStatus.Running) return { skipped: run.status };
    const emit = context.emit.bind(context);
    try {
      const counts = await this.service.execute(run, {
        signal: context.signal,
        emit,
        onProgress: (c) => void context.progress(c.total > 0 ? (c.hashed + c.failed + c.skipped) / c.total : 0),
      });
      return { counts };
    } catch (error) {
      if (!context.signal.aborted && context.attempt >= context.maxAttempts)
        await this.service.fail(run.id, error, { emit });
      throw error;
    }
  }
}
