import { Column, Entity, Index } from 'typeorm';
import { type ImportCounts, JobRowTimestamps, JsonColumn, UuidPrimaryColumn } from '@app/core';

export enum ImportRunStatus {
  Queued = 'queued',
  Running = 'running',
  Completed = 'completed',
  Failed = 'failed',
}

export enum HashPolicy {
  /**
   * Hash only what needs it: a new file that could be a moved one (a vanished file of the same size), and a changed
   * file whose hash had been computed. Computed hashes of unchanged files are reused.
   */
  Lazy = 'lazy',
  /** Hash every new or changed file, and every file whose hash was never computed. */
  Full = 'full',
}

export interface ImportRunOptions {
  dryRun: boolean;
  forceResync: boolean;
  hash: HashPolicy;
  /**
   * The `paths` of the queued job (empty: every root), kept so the job can be re-enqueued if the queue loses it.
   * Absent on CLI runs and on runs from before it was stored; `roots` stands in for it then.
   */
  paths?: string[];
  /** Globs this run skipped on top of `LORA_IGNORE` (absent: none). */
  ignore?: string[];
}

export interface ImportFailure {
  path: string;
  reason: string;
}

@Entity('import_runs')
@Index('idx_import_runs_created_id', ['createdAt', 'id'])
export class ImportRunEntity extends JobRowTimestamps {
  @UuidPrimaryColumn()
  id: string;

  @JsonColumn()
  roots: string[];

  @JsonColumn()
  options: ImportRunOptions;

  @Column({ type: 'varchar', length: 16 })
  status: ImportRunStatus;

  @JsonColumn()
  counts: ImportCounts;

  /** The first failures (capped), each with path and reason. */
  @JsonColumn()
  failures: ImportFailure[];

  @Column({ type: 'integer', name: 'failure_count', default: 0 })
  failureCount: number;

  @Column({ type: 'text', nullable: true })
  error: string | null;
}
