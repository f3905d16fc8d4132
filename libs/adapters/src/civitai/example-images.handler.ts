import { Injectable } from '@nestjs/common';
import { type CivitaiExamplesPayload, type JobContext, type JobHandler, JobHandlerFor, JobName } from '@app/core';
import { ExampleImagesService } from './example-images.service.js';

/** Fetches a linked adapter's example images into the file storage (the result counts stored and skipped). */
@Injectable()
@JobHandlerFor(JobName.CivitaiExamples)
export class ExampleImagesJobHandler implements JobHandler<JobName.CivitaiExamples> {
  constructor(private readonly examples: ExampleImagesService) {}

  handle(payload: CivitaiExamplesPayload, context: JobContext): Promise<{ stored: number; skipped: number }> {
    return this.examples.fetchAll(payload.adapterId, context.signal, (done, total) =>
      context.progress(done / Math.max(1, total), `${done}/${total}`),
    );
  }
}
