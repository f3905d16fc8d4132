import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { TimestampColumn, UuidColumn, UuidPrimaryColumn } from '@app/core';

/** Where a recommendation was shown when the user judged it. */
export enum RecommendationKind {
  Similar = 'similar',
  Prompt = 'prompt',
  Trigger = 'trigger',
}

/** One "useful" / "not useful" on a recommended adapter; later rankings read the sums. */
@Entity('recommendation_feedback')
@Index('idx_recommendation_feedback_adapter', ['adapterId', 'kind'])
@Index('idx_recommendation_feedback_pair', ['sourceAdapterId', 'adapterId'])
export class RecommendationFeedbackEntity {
  @UuidPrimaryColumn()
  id: string;

  @Column({ type: 'varchar', length: 16 })
  kind: RecommendationKind;

  /** The adapter whose "similar" list showed it; null for prompt and trigger recommendations. */
  @UuidColumn({ name: 'source_adapter_id', nullable: true })
  sourceAdapterId: string | null;

  /** The recommended adapter. */
  @UuidColumn({ name: 'adapter_id' })
  adapterId: string;

  @Column({ type: 'boolean' })
  useful: boolean;

  /** The prompt a prompt recommendation answered (first 1,000 characters). */
  @Column({ type: 'text', nullable: true })
  prompt: string | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}

export enum IndexRebuildStatus {
  Running = 'running',
  Completed = 'completed',
  Failed = 'failed',
}

/**
 * The version stamp of the recommendation index (one row, id `default`). Each process builds its own index from
 * the database; a rebuild job bumps `version`, and every process whose index is older rebuilds before it answers.
 */
@Entity('recommendation_index_state')
export class RecommendationIndexStateEntity {
  @PrimaryColumn({ type: 'varchar', length: 32 })
  id: string;

  @Column({ type: 'integer', default: 0 })
  version: number;

  @Column({ type: 'varchar', length: 16, nullable: true })
  status: IndexRebuildStatus | null;

  @Column({ type: 'varchar', length: 64, name: 'job_id', nullable: true })
  jobId: string | null;

  @Column({ type: 'integer', default: 0 })
  documents: number;

  @Column({ type: 'integer', default: 0 })
  terms: number;

  @Column({ type: 'integer', name: 'build_ms', nullable: true })
  buildMs: number | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @TimestampColumn({ name: 'started_at', nullable: true })
  startedAt: Date | null;

  @TimestampColumn({ name: 'built_at', nullable: true })
  builtAt: Date | null;
}
