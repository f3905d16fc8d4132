import { Column, Entity, Index } from 'typeorm';
import { JsonColumn, TimestampColumn, UuidColumn, UuidPrimaryColumn } from '@app/core';

/** Where a recipe came from. */
export enum RecipeSource {
  Manual = 'manual',
  Result = 'result',
  Image = 'image',
  Import = 'import',
}

/** One LoRA of a recipe: the library adapter when mapped, and what identifies it when the library changes. */
export interface RecipeLora {
  /** Library adapter; null when no file of the library matched (a later import or Civitai download may). */
  adapterId: string | null;
  /** Token name (`<lora:name:…>`) or file stem. */
  name: string;
  weight: number;
  /** Full-file SHA-256 of the adapter when known. */
  sha256: string | null;
  /** AutoV2 (10 hex of the SHA-256) when known. */
  autov2: string | null;
  /** A hash the source gave (infotext `Lora hashes`: 8 or 12 hex), kept to relink by. */
  hash: string | null;
}

/** A reusable LoRA set with its prompt and generation settings. */
@Entity('recipes')
@Index('idx_recipes_created', ['createdAt', 'id'])
@Index('idx_recipes_name', ['name'])
export class RecipeEntity {
  @UuidPrimaryColumn()
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'text', nullable: true })
  notes: string | null;

  @JsonColumn()
  tags: string[];

  @JsonColumn()
  loras: RecipeLora[];

  @Column({ type: 'text' })
  prompt: string;

  @Column({ type: 'text', name: 'negative_prompt', nullable: true })
  negativePrompt: string | null;

  /** Generation settings (request wire names: steps, sampler_name, cfg_scale, seed, width, height, model, …). */
  @JsonColumn()
  parameters: object;

  /** `manual`, `result`, `image` or `import`. */
  @Column({ type: 'varchar', length: 16 })
  source: RecipeSource;

  @UuidColumn({ name: 'source_result_id', nullable: true })
  sourceResultId: string | null;

  /** FileStorage key of the source image. */
  @Column({ type: 'varchar', length: 512, name: 'image_key', nullable: true })
  imageKey: string | null;

  @Column({ type: 'varchar', length: 64, name: 'image_content_type', nullable: true })
  imageContentType: string | null;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
