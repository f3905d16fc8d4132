import { Injectable } from '@nestjs/common';
import {
  type CivitaiDownloadPayload,
  type JobContext,
  type JobHandler,
  JobHandlerFor,
  JobName,
  UnrecoverableJobError,
} from '@app/core';
import { ACTIVE_DOWNLOAD_STATUSES } from './civitai-download.entity.js';
import { CivitaiDownloadRepository } from './civitai-download.repository.js';
import { CivitaiDownloadService, DownloadFailedError } from './civitai-download.service.js';

/**
 * Runs one download. A retry, or the job taken up again after a restart, resumes from the partial file; a download
 * that has ended does nothing.
 */
@Injectable()
@JobHandlerFor(JobName.CivitaiDownload)
export class CivitaiDownloadJobHandler implements JobHandler<JobName.CivitaiDownload> {
  constructor(
    private readonly rows: CivitaiDownloadRepository,
    private readonly service: CivitaiDownloadService,
  ) {}

  async handle(payload: CivitaiDownloadPayload, context: JobContext): Promise<unknown> {
    const row = await this.rows.findById(payload.jobId);
    if (!row) throw new UnrecoverableJobError(`download ${payload.jobId} does not exist`);
    if (!ACTIVE_DOWNLOAD_STATUSES.includes(row.status)) return { skipped: row.status };
    const emit = context.emit.bind(context);
    try {
      const done = await this.service.execute(row, {
        signal: context.signal,
        emit,
        onProgress: (bytes, total) => void context.progress(total ? bytes / total : 0),
      });
      return { status: done.status, adapterId: done.adapterId, bytesFetched: done.bytesFetched };
    } catch (error) {
      if (error instanceof DownloadFailedError) throw new UnrecoverableJobError(error.message);
      if (!context.signal.aborted && context.attempt >= context.maxAttempts)
        await this.service.fail(row.id, error, { emit });
      throw error;
    }
  }
}
