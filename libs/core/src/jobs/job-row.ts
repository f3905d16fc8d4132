import { TimestampColumn } from '../database/columns.js';

/** Life of a feature's job row (a generation, a delivery); stored, so a string enum. */
export enum JobRowStatus {
  Queued = 'queued',
  Running = 'running',
  Succeeded = 'succeeded',
  Failed = 'failed',
  Cancelled = 'cancelled',
}

export const FINISHED_JOB_ROW_STATUSES: readonly JobRowStatus[] = [
  JobRowStatus.Succeeded,
  JobRowStatus.Failed,
  JobRowStatus.Cancelled,
];

export const UNFINISHED_JOB_ROW_STATUSES: readonly JobRowStatus[] = [JobRowStatus.Queued, JobRowStatus.Running];

/** When a job row was created, started and finished: the columns every job table has (entities extend it). */
export abstract class JobRowTimestamps {
  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'started_at', nullable: true })
  startedAt: Date | null;

  @TimestampColumn({ name: 'finished_at', nullable: true })
  finishedAt: Date | null;
}
