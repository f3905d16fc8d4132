import { Column, Entity, Index } from 'typeorm';
import {
  columnTypes,
  FINISHED_JOB_ROW_STATUSES,
  JobRowStatus,
  JobRowTimestamps,
  JsonColumn,
  TimestampColumn,
  UuidPrimaryColumn,
} from '@app/core';

/** Life of a generation: the shared job-row statuses. */
export const GenerationStatus = JobRowStatus;
export type GenerationStatus = JobRowStatus;

export const FINISHED_GENERATION_STATUSES = FINISHED_JOB_ROW_STATUSES;

/** How the job was asked for: `generate` waits in the request, `queue-generation` runs it as a background job. */
export enum GenerationMode {
  Sync = 'sync',
  Queued = 'queued',
}

/** One stored result image. */
export interface GenerationImageRef {
  index: number;
  /** FileStorage key, `generations/<jobId>/<index>.<ext>`. */
  key: string;
  contentType: string;
  size: number;
}

/** A LoRA that the composed prompt uses (filled by compose-and-generate). */
export interface GenerationAdapterRef {
  id?: string;
  name: string;
  weight?: number;
}

// PostgreSQL returns bigint as a string; seeds fit in a double exactly.
const seedTransformer = {
  to: (value: number | null | undefined): number | null | undefined => value,
  from: (value: unknown): number | null => (value === null || value === undefined ? null : Number(value)),
};

@Entity('generation_jobs')
@Index('idx_generation_jobs_backend', ['backendId'])
@Index('idx_generation_jobs_stats', ['createdAt', 'backendId', 'status', 'startedAt', 'finishedAt'])
@Index('idx_generation_jobs_status_created', ['status', 'createdAt'])
@Index('idx_generation_jobs_created_id', ['createdAt', 'id'])
export class GenerationJobEntity extends JobRowTimestamps {
  @UuidPrimaryColumn()
  id: string;

  @Column({ type: 'varchar', length: 16, default: GenerationStatus.Queued })
  status: GenerationStatus;

  @Column({ type: 'varchar', length: 8, default: GenerationMode.Queued })
  mode: GenerationMode;

  /** The backend that ran (or runs) it; null while it waits for one. */
  @Column({ type: 'varchar', name: 'backend_id', length: 64, nullable: true })
  backendId: string | null;

  /** Backend the caller asked for, if any. */
  @Column({ type: 'varchar', name: 'requested_backend_id', length: 64, nullable: true })
  requestedBackendId: string | null;

  /** The txt2img body sent to SD.Next (wire names). */
  @JsonColumn()
  request: object;

  @Column({ type: 'text', name: 'composed_prompt', nullable: true })
  composedPrompt: string | null;

  @JsonColumn({ name: 'adapters_used', nullable: true })
  adaptersUsed: GenerationAdapterRef[] | null;

  /** 0..1 */
  @Column({ type: 'real', default: 0 })
  progress: number;

  @Column({ type: 'integer', default: 0 })
  step: number;

  @Column({ type: 'integer', default: 0 })
  steps: number;

  @Column({ type: 'real', name: 'eta_seconds', nullable: true })
  etaSeconds: number | null;

  @JsonColumn({ nullable: true })
  images: GenerationImageRef[] | null;

  /** SD.Next's `info`, parsed. */
  @JsonColumn({ nullable: true })
  info: object | null;

  @Column({ type: columnTypes.bigint(), nullable: true, transformer: seedTransformer })
  seed: number | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  /** Set just before txt2img is sent and cleared when SD.Next surely never got it: a rerun with it set must not resend. */
  @TimestampColumn({ name: 'request_sent_at', nullable: true })
  requestSentAt: Date | null;

  /** Set by a cancel; every runner polls it, whichever process it lives in. */
  @TimestampColumn({ name: 'cancel_requested_at', nullable: true })
  cancelRequestedAt: Date | null;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
