import { Injectable } from '@nestjs/common';
import {
  type CivitaiRunPayload,
  type JobContext,
  type JobHandler,
  JobHandlerFor,
  JobName,
  UnrecoverableJobError,
} from '@app/core';
import { CivitaiRunStatus } from './civitai-runs.entity.js';
import { CivitaiRunRepository } from './civitai-runs.repository.js';
import { CivitaiRunService } from './civitai-runs.service.js';

/** Runs one Civitai run; a retry or a restart goes on after the adapters already done. A run that has ended does nothing. */
@Injectable()
@JobHandlerFor(JobName.CivitaiRun)
export class CivitaiRunJobHandler implements JobHandler<JobName.CivitaiRun> {
  constructor(
    private readonly runs: CivitaiRunRepository,
    private readonly service: CivitaiRunService,
  ) {}

  async handle(payload: CivitaiRunPayload, context: JobContext): Promise<unknown> {
    const run = await this.runs.findById(payload.jobId);
    if (!run) throw new UnrecoverableJobError(`civitai run ${payload.jobId} does not exist`);
    if (run.status !== CivitaiRunStatus.Queued && run.status !== CivitaiRunStatus.Running) {
      return { skipped: run.status };
    }
    const emit = context.emit.bind(context);
    try {
      const counts = await this.service.execute(run, {
        signal: context.signal,
        emit,
        onProgress: (c) => void context.progress(c.total > 0 ? c.done / c.total : 0),
      });
      return { counts };
    } catch (error) {
      if (!context.signal.aborted && context.attempt >= context.maxAttempts)
        await this.service.fail(run.id, error, { emit });
      throw error;
    }
  }
}
