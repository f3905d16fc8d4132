import { Column, Entity, Index } from 'typeorm';
import { type HashRunCounts, JobRowTimestamps, JsonColumn, UuidPrimaryColumn } from '@app/core';
import type { ImportFailure } from '../import-runs/import-run.entity.js';

export enum HashRunStatus {
  Queued = 'queued',
  Running = 'running',
  Completed = 'completed',
  Failed = 'failed',
  Cancelled = 'cancelled',
}

/** Statuses of a run that is still to do or doing its work: one at a time. */
export const ACTIVE_HASH_RUN_STATUSES: readonly HashRunStatus[] = [HashRunStatus.Queued, HashRunStatus.Running];

/** Who asked for a hash run. */
export enum HashRunTrigger {
  /** Started by an import that left files unhashed. */
  Import = 'import',
  Api = 'api',
  Cli = 'cli',
}

export const emptyHashCounts = (): HashRunCounts => ({
  total: 0,
  hashed: 0,
  failed: 0,
  mismatched: 0,
  skipped: 0,
  bytes: 0,
});

@Entity('hash_runs')
@Index('idx_hash_runs_created', ['createdAt'])
export class HashRunEntity extends JobRowTimestamps {
  @UuidPrimaryColumn()
  id: string;

  @Column({ type: 'varchar', length: 16 })
  status: HashRunStatus;

  @Column({ type: 'varchar', length: 16 })
  trigger: HashRunTrigger;

  @JsonColumn()
  counts: HashRunCounts;

  /** The first failures (capped), each with the file's path relative to its root and the reason. */
  @JsonColumn()
  failures: ImportFailure[];

  @Column({ type: 'text', nullable: true })
  error: string | null;
}
