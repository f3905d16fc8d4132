import { Injectable } from '@nestjs/common';
import { JobName, type QueuedJobQuery, type QueuedJobRef, QueuedJobSource, QueuedJobSourceFor } from '@app/core';
import { GenerationJobRepository } from './generation-job.repository.js';

/** Queued generations for the scale-out reconciler: the queue job has the row's id and carries only that id. */
@Injectable()
@QueuedJobSourceFor(JobName.Generation)
export class GenerationQueuedJobSource extends QueuedJobSource<JobName.Generation> {
  readonly jobName = JobName.Generation;

  constructor(private readonly repository: GenerationJobRepository) {
    super();
  }

  async findQueued({ olderThan, afterId, limit }: QueuedJobQuery): Promise<QueuedJobRef<JobName.Generation>[]> {
    const ids = await this.repository.findQueuedIds(olderThan, afterId, limit);
    return ids.map((jobId) => ({ jobId, payload: { jobId } }));
  }
}
