import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { columnTypes, JsonColumn, TimestampColumn, UuidColumn, UuidPrimaryColumn } from '@app/core';
import type { ResultLora } from './infotext.js';

// PostgreSQL returns bigint as a string; seeds and sizes fit in a double exactly.
const bigintTransformer = {
  to: (value: number | null | undefined): number | null | undefined => value,
  from: (value: unknown): number | null => (value === null || value === undefined ? null : Number(value)),
};

/** One generated image: where it is stored, what made it, and the user's rating, favorite, tags and notes. */
@Entity('generation_results')
@Index('uq_generation_results_job_image', ['jobId', 'imageIndex'], { unique: true })
@Index('idx_generation_results_created', ['createdAt', 'id'])
@Index('idx_generation_results_backend', ['backendId', 'createdAt'])
@Index('idx_generation_results_favorite', ['favorite', 'createdAt'])
@Index('idx_generation_results_rating', ['rating', 'id'])
export class GenerationResultEntity {
  @UuidPrimaryColumn()
  id: string;

  @UuidColumn({ name: 'job_id' })
  jobId: string;

  @Column({ type: 'integer', name: 'image_index' })
  imageIndex: number;

  @Column({ type: 'varchar', length: 512, name: 'storage_key' })
  storageKey: string;

  /** `png`, `jpeg`, `webp` or `bin`. */
  @Column({ type: 'varchar', length: 8 })
  format: string;

  @Column({ type: 'varchar', length: 64, name: 'content_type' })
  contentType: string;

  @Column({ type: 'integer', nullable: true })
  width: number | null;

  @Column({ type: 'integer', nullable: true })
  height: number | null;

  @Column({ type: columnTypes.bigint(), transformer: bigintTransformer })
  bytes: number;

  @Column({ type: columnTypes.bigint(), nullable: true, transformer: bigintTransformer })
  seed: number | null;

  /** The txt2img body sent to SD.Next (wire names). */
  @JsonColumn()
  request: object;

  @Column({ type: 'text' })
  prompt: string;

  @Column({ type: 'text', name: 'negative_prompt', nullable: true })
  negativePrompt: string | null;

  @JsonColumn()
  loras: ResultLora[];

  /** The checkpoint asked for, or the one SD.Next said it used. */
  @Column({ type: 'varchar', length: 512, nullable: true })
  model: string | null;

  @Column({ type: 'varchar', length: 64, name: 'backend_id' })
  backendId: string;

  @TimestampColumn({ name: 'started_at', nullable: true })
  startedAt: Date | null;

  @TimestampColumn({ name: 'finished_at' })
  finishedAt: Date;

  @Column({ type: 'integer', name: 'duration_ms', nullable: true })
  durationMs: number | null;

  /** 0 (unrated) to 5. */
  @Column({ type: 'integer', default: 0 })
  rating: number;

  @Column({ type: 'boolean', default: false })
  favorite: boolean;

  @JsonColumn()
  tags: string[];

  @Column({ type: 'text', nullable: true })
  notes: string | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}

/** Which library adapters a result used, one row each: the list's adapter and base-model filters use it. */
@Entity('generation_result_adapters')
@Index('idx_generation_result_adapters_adapter', ['adapterId', 'resultId'])
@Index('idx_generation_result_adapters_base_model', ['baseModel', 'resultId'])
export class GenerationResultAdapterEntity {
  @PrimaryColumn({
    type: columnTypes.uuid(),
    name: 'result_id',
    length: columnTypes.uuid() === 'uuid' ? undefined : 36,
  })
  resultId: string;

  @PrimaryColumn({
    type: columnTypes.uuid(),
    name: 'adapter_id',
    length: columnTypes.uuid() === 'uuid' ? undefined : 36,
  })
  adapterId: string;

  @Column({ type: 'varchar', length: 64, name: 'base_model', nullable: true })
  baseModel: string | null;
}
