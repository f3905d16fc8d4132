import { Column, Entity, Index } from 'typeorm';
import type { UsedAdapter } from '@app/composition';
import {
  FINISHED_JOB_ROW_STATUSES,
  JobRowStatus,
  JobRowTimestamps,
  JsonColumn,
  TimestampColumn,
  UuidColumn,
  UuidPrimaryColumn,
} from '@app/core';

/** Life of a delivery: the shared job-row statuses. */
export const DeliveryStatus = JobRowStatus;
export type DeliveryStatus = JobRowStatus;

export const FINISHED_DELIVERY_STATUSES = FINISHED_JOB_ROW_STATUSES;

/** The built-in backends; the stored `mode` is the name of the backend that runs the delivery. */
export enum DeliveryMode {
  Http = 'http',
  Cli = 'cli',
  SdNext = 'sdnext',
}

/** What a backend recorded: HTTP status and bounded body, exit code and bounded output, generation and images. */
export type DeliveryResult = Record<string, unknown>;

/** An adapter a composed delivery used. */
export type DeliveryAdapterRef = UsedAdapter;

@Entity('delivery_jobs')
@Index('idx_delivery_jobs_status', ['status'])
@Index('idx_delivery_jobs_mode', ['mode'])
@Index('idx_delivery_jobs_favorite', ['favorite'])
@Index('idx_delivery_jobs_stats', ['createdAt', 'mode', 'status'])
@Index('idx_delivery_jobs_created_id', ['createdAt', 'id'])
export class DeliveryJobEntity extends JobRowTimestamps {
  @UuidPrimaryColumn()
  id: string;

  @Column({ type: 'varchar', length: 32 })
  mode: string;

  @Column({ type: 'text' })
  prompt: string;

  @Column({ type: 'text', name: 'negative_prompt', nullable: true })
  negativePrompt: string | null;

  /** The backend's parameters, as validated by it (url, command + args, txt2img fields). */
  @JsonColumn()
  params: object;

  @Column({ type: 'varchar', length: 16, default: DeliveryStatus.Queued })
  status: DeliveryStatus;

  @JsonColumn({ nullable: true })
  result: object | null;

  /** Why the last attempt failed (kept while a retry waits), or why it was cancelled. */
  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  /** 0–5, set by the user. */
  @Column({ type: 'integer', nullable: true })
  rating: number | null;

  @Column({ type: 'boolean', default: false })
  favorite: boolean;

  /** The generation that an `sdnext` delivery created; set before it is awaited, so a rerun waits for the same one. */
  @UuidColumn({ name: 'generation_job_id', nullable: true })
  generationJobId: string | null;

  /** The library adapters of a composed delivery (none for a plain prompt): co-usage for recommendations. */
  @JsonColumn({ name: 'adapters_used', nullable: true })
  adaptersUsed: DeliveryAdapterRef[] | null;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
