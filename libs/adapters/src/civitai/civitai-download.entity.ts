import { Column, Entity, Index } from 'typeorm';
import { JobRowTimestamps, UuidColumn, UuidPrimaryColumn, columnTypes } from '@app/core';

export enum CivitaiDownloadStatus {
  Queued = 'queued',
  Running = 'running',
  Completed = 'completed',
  Failed = 'failed',
  Cancelled = 'cancelled',
}

export const ACTIVE_DOWNLOAD_STATUSES: readonly CivitaiDownloadStatus[] = [
  CivitaiDownloadStatus.Queued,
  CivitaiDownloadStatus.Running,
];

/** PostgreSQL returns bigint as a string. */
const bigintNumber = {
  to: (v: number | null) => v,
  from: (v: unknown) => (v === null || v === undefined ? null : Number(v)),
};

/** One download of a Civitai model version into a library folder: its state, bytes and outcome. */
@Entity('civitai_downloads')
@Index('idx_civitai_downloads_created', ['createdAt'])
export class CivitaiDownloadEntity extends JobRowTimestamps {
  @UuidPrimaryColumn()
  id: string;

  @Column({ type: 'varchar', length: 16 })
  status: CivitaiDownloadStatus;

  @Column({ type: 'integer', name: 'model_id', nullable: true })
  modelId: number | null;

  @Column({ type: 'integer', name: 'version_id' })
  versionId: number;

  @Column({ type: 'varchar', length: 12, name: 'root_id' })
  rootId: string;

  /** Relative to the root, posix separators, with the file name. */
  @Column({ type: 'text', name: 'relative_path' })
  relativePath: string;

  /** The SHA-256 Civitai declares for the file (upper case). */
  @Column({ type: 'varchar', length: 64, name: 'expected_sha256' })
  expectedSha256: string;

  @Column({ type: columnTypes.bigint(), name: 'bytes_done', transformer: bigintNumber })
  bytesDone: number;

  @Column({ type: columnTypes.bigint(), name: 'bytes_total', nullable: true, transformer: bigintNumber })
  bytesTotal: number | null;

  /** Bytes received over the network, every attempt together (a resumed download receives less than its size). */
  @Column({ type: columnTypes.bigint(), name: 'bytes_fetched', transformer: bigintNumber })
  bytesFetched: number;

  /** The file host's ETag for the partial file, sent back as `If-Range` when resuming. */
  @Column({ type: 'varchar', length: 256, nullable: true })
  etag: string | null;

  @UuidColumn({ name: 'adapter_id', nullable: true })
  adapterId: string | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;
}
