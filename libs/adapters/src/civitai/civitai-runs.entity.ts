import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import {
  type CivitaiRunCounts,
  columnTypes,
  JobRowTimestamps,
  JsonColumn,
  TimestampColumn,
  UuidPrimaryColumn,
} from '@app/core';

export enum CivitaiRunKind {
  /** Look adapters up by their file's SHA-256. */
  Lookup = 'lookup',
  /** Fetch linked adapters' models and record newer versions. */
  UpdateCheck = 'update_check',
}

export enum CivitaiRunStatus {
  Queued = 'queued',
  Running = 'running',
  Completed = 'completed',
  Failed = 'failed',
  Cancelled = 'cancelled',
}

export const ACTIVE_CIVITAI_RUN_STATUSES: readonly CivitaiRunStatus[] = [
  CivitaiRunStatus.Queued,
  CivitaiRunStatus.Running,
];

/** Who asked for a Civitai run. */
export enum CivitaiRunTrigger {
  Api = 'api',
  Cli = 'cli',
  /** `CIVITAI_AUTO_LOOKUP`: after a hash run. */
  Hash = 'hash',
  /** `CIVITAI_UPDATE_CHECK_HOURS`. */
  Schedule = 'schedule',
}

/** Which adapters a run covers: these ids, those matching a filter, or (neither) every candidate of its kind. */
export interface CivitaiRunScope {
  adapterIds?: string[];
  filter?: { q?: string; baseModel?: string[]; tags?: string[]; root?: string; folder?: string };
}

export interface CivitaiRunFailure {
  adapterId: string;
  reason: string;
}

export const emptyCivitaiCounts = (): CivitaiRunCounts => ({
  total: 0,
  done: 0,
  found: 0,
  notFound: 0,
  withUpdates: 0,
  failed: 0,
});

@Entity('civitai_runs')
@Index('idx_civitai_runs_created', ['createdAt'])
export class CivitaiRunEntity extends JobRowTimestamps {
  @UuidPrimaryColumn()
  id: string;

  @Column({ type: 'varchar', length: 16 })
  kind: CivitaiRunKind;

  @Column({ type: 'varchar', length: 16 })
  status: CivitaiRunStatus;

  @Column({ type: 'varchar', length: 16 })
  trigger: CivitaiRunTrigger;

  @JsonColumn()
  scope: CivitaiRunScope;

  /** The adapters to do, fixed when the run first starts (so a resumed run goes on after `counts.done`). */
  @JsonColumn({ nullable: true })
  targets: string[] | null;

  @JsonColumn()
  counts: CivitaiRunCounts;

  /** The first failures (capped). */
  @JsonColumn()
  failures: CivitaiRunFailure[];

  @Column({ type: 'text', nullable: true })
  error: string | null;
}

/** A version of a linked adapter's model newer than the adapter's own. */
export interface CivitaiNewerVersion {
  id: number;
  name: string | null;
  publishedAt: string | null;
  baseModel: string | null;
  /** The primary file's size in bytes, when Civitai gave it. */
  fileSize: number | null;
  earlyAccess: boolean;
}

@Entity('civitai_updates')
@Index('idx_civitai_updates_has_update', ['hasUpdate'])
export class CivitaiUpdateEntity {
  @PrimaryColumn({
    type: columnTypes.uuid(),
    length: columnTypes.uuid() === 'uuid' ? undefined : 36,
    name: 'adapter_id',
  })
  adapterId: string;

  @Column({ type: 'integer', name: 'model_id' })
  modelId: number;

  /** The adapter's version when it was checked: a different version now means the answer is stale. */
  @Column({ type: 'integer', name: 'version_id', nullable: true })
  versionId: number | null;

  /** Newer versions, newest first. */
  @JsonColumn()
  newer: CivitaiNewerVersion[];

  @Column({ type: 'boolean', name: 'has_update', default: false })
  hasUpdate: boolean;

  @TimestampColumn({ name: 'checked_at' })
  checkedAt: Date;
}
