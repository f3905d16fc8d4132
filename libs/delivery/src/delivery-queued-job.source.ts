import { Injectable } from '@nestjs/common';
import { JobName, type QueuedJobQuery, type QueuedJobRef, QueuedJobSource, QueuedJobSourceFor } from '@app/core';
import { DeliveryJobRepository } from './delivery-job.repository.js';

/** Queued deliveries for the scale-out reconciler: the queue job has the row's id and carries only that id. */
@Injectable()
@QueuedJobSourceFor(JobName.Delivery)
export class DeliveryQueuedJobSource extends QueuedJobSource<JobName.Delivery> {
  readonly jobName = JobName.Delivery;

  constructor(private readonly repository: DeliveryJobRepository) {
    super();
  }

  async findQueued({ olderThan, afterId, limit }: QueuedJobQuery): Promise<QueuedJobRef<JobName.Delivery>[]> {
    const ids = await this.repository.findQueuedIds(olderThan, afterId, limit);
    return ids.map((jobId) => ({ jobId, payload: { jobId } }));
  }
}
