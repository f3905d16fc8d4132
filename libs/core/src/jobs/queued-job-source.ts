import { Inject, Injectable, SetMetadata, type Type } from '@nestjs/common';
import type { JobName, JobPayloads } from './job-name.js';

/** One row waiting in a feature's table: the id of its queue job and the payload that job carries. */
export interface QueuedJobRef<N extends JobName = JobName> {
  jobId: string;
  payload: JobPayloads[N];
}

export interface QueuedJobQuery {
  /** Only rows that have been `queued` since before this moment. */
  olderThan: Date;
  /** Only ids greater than this (keyset paging by id); from the start when absent. */
  afterId?: string;
  limit: number;
}

/**
 * A feature table whose `queued` rows each stand for one queue job with the row's id. In scale-out mode the
 * `JobReconciler` asks every source for its long-`queued` rows and re-enqueues them with the same job id, so
 * a Redis that lost its data (restart without persistence, failover, FLUSHALL) loses no job. Rows come back
 * ordered by `jobId`, at most `limit` of them.
 */
export abstract class QueuedJobSource<N extends JobName = JobName> {
  abstract readonly jobName: N;
  abstract findQueued(query: QueuedJobQuery): Promise<QueuedJobRef<N>[]>;
}

export const QUEUED_JOB_SOURCE_METADATA = 'lora-manager:queued-job-source';

/**
 * Marks a provider as the source of `name`'s queued rows; the reconciler finds it at start-up. The class must
 * extend `QueuedJobSource<name>`, which the compiler checks.
 */
export const QueuedJobSourceFor =
  <N extends JobName>(name: N) =>
  (target: abstract new (...args: never[]) => QueuedJobSource<N>): void => {
    SetMetadata(QUEUED_JOB_SOURCE_METADATA, name)(target);
  };

/** A job whose payload is only its row's id (`{ jobId }`, the queue job's id too). */
export type RowIdJobName = {
  [N in JobName]: JobPayloads[N] extends { jobId: string }
    ? { jobId: string } extends JobPayloads[N]
      ? N
      : never
    : never;
}[JobName];

/** A repository that finds the ids of its long-`queued` rows, in id order (see `QueuedJobQuery`). */
export interface QueuedIdsRepository {
  findQueuedIds(olderThan: Date, afterId: string | undefined, limit: number): Promise<string[]>;
}

/**
 * The queued-job source of a table whose job carries only the row's id: one class for every such table. Nest
 * injects `repository`; register the returned class as a provider of the feature's module.
 */
export function rowIdQueuedJobSource<N extends RowIdJobName>(
  name: N,
  repository: Type<QueuedIdsRepository>,
): Type<QueuedJobSource<N>> {
  @Injectable()
  @QueuedJobSourceFor(name)
  class RowIdQueuedJobSource extends QueuedJobSource<N> {
    readonly jobName = name;

    constructor(@Inject(repository) private readonly rows: QueuedIdsRepository) {
      super();
    }

    async findQueued({ olderThan, afterId, limit }: QueuedJobQuery): Promise<QueuedJobRef<N>[]> {
      const ids = await this.rows.findQueuedIds(olderThan, afterId, limit);
      return ids.map((jobId) => ({ jobId, payload: { jobId } }));
    }
  }
  return RowIdQueuedJobSource;
}
