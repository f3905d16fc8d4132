import { Injectable } from '@nestjs/common';
import { JobName, type QueuedJobQuery, type QueuedJobRef, QueuedJobSource, QueuedJobSourceFor } from '@app/core';
import { ImportRunRepository } from './import-run.repository.js';

/**
 * Queued import runs for the scale-out reconciler: the queue job has the run's id and carries the paths the
 * run was started with (stored in its options; its resolved `roots` for runs from before they were stored).
 */
@Injectable()
@QueuedJobSourceFor(JobName.Import)
export class ImportQueuedJobSource extends QueuedJobSource<JobName.Import> {
  readonly jobName = JobName.Import;

  constructor(private readonly runs: ImportRunRepository) {
    super();
  }

  async findQueued({ olderThan, afterId, limit }: QueuedJobQuery): Promise<QueuedJobRef<JobName.Import>[]> {
    const rows = await this.runs.findQueued(olderThan, afterId, limit);
    return rows.map((run) => ({ jobId: run.id, payload: { runId: run.id, paths: run.options.paths ?? run.roots } }));
  }
}
