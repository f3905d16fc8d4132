import { Column, Entity, Index } from 'typeorm';
import { columnTypes, DatabaseType, dialect, JsonColumn, TimestampColumn, UuidPrimaryColumn } from '@app/core';
import type { AdapterUserField } from './adapter-fields.js';

/**
 * PostgreSQL only: `search_vector`, `to_tsvector('simple', search_text)` kept by a trigger (migration
 * 1764300000600), with its GIN index. Never written, nor read, by TypeORM; declared so that the schema diff sees no pending change.
 */
const SearchVectorColumn = (): PropertyDecorator => {
  if (dialect() !== DatabaseType.Postgres) return () => undefined;
  const column = Column({
    type: 'tsvector',
    name: 'search_vector',
    nullable: true,
    select: false,
    insert: false,
    update: false,
  });
  // A GIN index TypeORM cannot express: known to it, never created nor dropped by it.
  const index = Index('idx_adapters_search_vector', { synchronize: false });
  return (target, key) => {
    column(target, key);
    index(target, key);
  };
};

export interface AdapterSidecarRef {
  kind: string;
  fileName: string;
  size: number;
  mtimeMs: number;
}

export interface AdapterPrimaryFile {
  name?: string;
  sizeKB?: number;
  downloadUrl?: string;
  hashes?: Record<string, string>;
  format?: string;
  fp?: string;
}

/** One LoRA file of a library root, with everything its header and sidecars say, and the user's own fields. */
export interface AdapterCivitaiDetails {
  /** `urn:air:…` resource id. */
  air?: string;
  /** LoRA-Manager's flag: the model is gone from Civitai. */
  deleted?: boolean;
  dislikes?: number;
  favorites?: number;
  comments?: number;
}

@Entity('adapters')
@Index('uq_adapters_root_path', ['rootId', 'relativePath'], { unique: true })
// The sort indexes: (column, id) over present adapters only (migration 1764300001000). TypeORM cannot express
// their WHERE and NULLS order on both databases: it knows them, and never creates nor drops them.
@Index('idx_adapters_name_present', { synchronize: false })
@Index('idx_adapters_created_present', { synchronize: false })
@Index('idx_adapters_updated_present', { synchronize: false })
@Index('idx_adapters_downloads_present', { synchronize: false })
@Index('idx_adapters_likes_present', { synchronize: false })
@Index('idx_adapters_rating_present', { synchronize: false })
@Index('idx_adapters_size_present', { synchronize: false })
// Counts of present adapters by one column read these alone (migration 1764300005200).
@Index('idx_adapters_sha256', ['sha256', 'missingSince', 'sha256Verified'])
@Index('idx_adapters_autov2', ['autoV2'])
@Index('idx_adapters_base_model', ['baseModel', 'missingSince'])
@Index('idx_adapters_model_type', ['modelType', 'missingSince'])
@Index('idx_adapters_folder', ['rootId', 'folder'])
// The folder filter's ranges, bytewise ("C" collation on PostgreSQL; migration 1764300001200): managed there.
@Index('idx_adapters_folder_prefix', { synchronize: false })
@Index('idx_adapters_civitai_model', ['civitaiModelId'])
@Index('idx_adapters_nsfw', ['nsfwMax', 'missingSince'])
@Index('idx_adapters_active', ['active', 'ordinal'])
@Index('idx_adapters_favorite', ['favorite'])
@Index('idx_adapters_missing', ['missingSince', 'sha256Verified'])
@Index('idx_adapters_has_preview', ['hasPreview'])
@Index('idx_adapters_has_warnings', ['hasWarnings'])
@Index('idx_adapters_lora_stem', ['loraStem'])
@Index('idx_adapters_lora_name', ['loraName'])
@Index('idx_adapters_lora_alias', ['loraAlias'])
export class AdapterEntity {
  @UuidPrimaryColumn()
  id: string;

  // File identity
  @Column({ type: 'varchar', length: 32, name: 'root_id' })
  rootId: string;

  @Column({ type: 'varchar', length: 2048, name: 'relative_path' })
  relativePath: string;

  /** Folder of the file relative to its root ('' at the top), for folder filters. */
  @Column({ type: 'varchar', length: 2048 })
  folder: string;

  @Column({ type: 'varchar', length: 512, name: 'file_name' })
  fileName: string;

  @Column({ type: columnTypes.bigint(), name: 'file_size' })
  fileSize: number;

  @Column({ type: columnTypes.double(), name: 'file_mtime_ms' })
  fileMtimeMs: number;

  /** The file name without `.safetensors`: what A1111 resolves `<lora:NAME>` by. */
  @Column({ type: 'varchar', length: 512, name: 'lora_stem', default: '' })
  loraStem: string;

  /** The stem with `.` → `_`: what SD.Next resolves `<lora:NAME>` by. */
  @Column({ type: 'varchar', length: 512, name: 'lora_name', default: '' })
  loraName: string;

  /** `ss_output_name` from the header: A1111's alias. */
  @Column({ type: 'varchar', length: 512, name: 'lora_alias', nullable: true })
  loraAlias: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  sha256: string | null;

  /** `sha256` was computed from the file's bytes; false: a sidecar's claim (or none), never trusted as identity. */
  @Column({ type: 'boolean', name: 'sha256_verified', default: false })
  sha256Verified: boolean;

  @Column({ type: 'varchar', length: 10, nullable: true, name: 'autov2' })
  autoV2: string | null;

  @Column({ type: 'varchar', length: 12, nullable: true, name: 'autov3' })
  autoV3: string | null;

  @Column({ type: 'varchar', length: 8, nullable: true, name: 'autov1' })
  autoV1: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  blake3: string | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  crc32: string | null;

  // Descriptive
  @Column({ type: 'varchar', length: 512 })
  name: string;

  /** Lower-cased name for case-insensitive sorting on both databases. */
  @Column({ type: 'varchar', length: 512, name: 'sort_name' })
  sortName: string;

  @Column({ type: 'varchar', length: 512, nullable: true, name: 'version_name' })
  versionName: string | null;

  /** The model's description (the version's when the model has none). */
  @Column({ type: 'text', nullable: true })
  description: string | null;

  /** The Civitai version's own notes. */
  @Column({ type: 'text', nullable: true, name: 'version_description' })
  versionDescription: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  creator: string | null;

  @Column({ type: 'integer', nullable: true, name: 'civitai_model_id' })
  civitaiModelId: number | null;

  @Column({ type: 'integer', nullable: true, name: 'civitai_version_id' })
  civitaiVersionId: number | null;

  /** found | not_found | unknown */
  @Column({ type: 'varchar', length: 16, name: 'civitai_lookup', default: 'unknown' })
  civitaiLookup: string;

  /**
   * Civitai's answer to a lookup by this file's hash (a version object, or `{}` for "not on Civitai"), merged like a
   * `.civitai.info` beside the file on every read; null when nobody asked.
   */
  @JsonColumn({ nullable: true, name: 'civitai_remote' })
  civitaiRemote: Record<string, unknown> | null;

  /** When Civitai was last asked about this file (a lookup by hash or a manual link). */
  @TimestampColumn({ nullable: true, name: 'civitai_checked_at' })
  civitaiCheckedAt: Date | null;

  @Column({ type: 'varchar', length: 64, name: 'base_model' })
  baseModel: string;

  @Column({ type: 'varchar', length: 128, nullable: true, name: 'base_model_raw' })
  baseModelRaw: string | null;

  @Column({ type: 'varchar', length: 32, name: 'model_type' })
  modelType: string;

  @JsonColumn()
  tags: string[];

  @JsonColumn({ name: 'trained_words' })
  trainedWords: string[];

  @JsonColumn({ name: 'trigger_words' })
  triggerWords: string[];

  @Column({ type: 'text', nullable: true, name: 'activation_text' })
  activationText: string | null;

  @Column({ type: columnTypes.double(), nullable: true, name: 'preferred_weight' })
  preferredWeight: number | null;

  @Column({ type: columnTypes.double(), nullable: true, name: 'weight_min' })
  weightMin: number | null;

  @Column({ type: columnTypes.double(), nullable: true, name: 'weight_max' })
  weightMax: number | null;

  /** Civitai bitmask (1 PG … 32 Blocked), 0 = unrated. */
  @Column({ type: 'integer', name: 'nsfw_level', default: 0 })
  nsfwLevel: number;

  @Column({ type: 'integer', nullable: true, name: 'nsfw_override' })
  nsfwOverride: number | null;

  /** Highest level bit of the override or the level: what "hide above" filters compare. */
  @Column({ type: 'integer', name: 'nsfw_max', default: 0 })
  nsfwMax: number;

  @Column({ type: 'integer', default: 0 })
  downloads: number;

  @Column({ type: 'integer', default: 0 })
  likes: number;

  @Column({ type: columnTypes.double(), nullable: true })
  rating: number | null;

  @Column({ type: 'integer', nullable: true, name: 'rating_count' })
  ratingCount: number | null;

  @JsonColumn({ nullable: true })
  license: Record<string, unknown> | null;

  @TimestampColumn({ nullable: true, name: 'published_at' })
  publishedAt: Date | null;

  /** Civitai facts without a column of their own; null when no sidecar gave any. */
  @JsonColumn({ nullable: true, name: 'civitai_details' })
  civitaiDetails: AdapterCivitaiDetails | null;

  @JsonColumn({ nullable: true, name: 'primary_file' })
  primaryFile: AdapterPrimaryFile | null;

  @Column({ type: 'varchar', length: 2048, nullable: true, name: 'preview_path' })
  previewPath: string | null;

  /** Header key of an image embedded in the LoRA, used when no preview file exists (`modelspec.thumbnail`, …). */
  @Column({ type: 'varchar', length: 64, nullable: true, name: 'preview_embedded' })
  previewEmbedded: string | null;

  /** A preview file or an embedded image. */
  @Column({ type: 'boolean', name: 'has_preview', default: false })
  hasPreview: boolean;

  @Column({ type: 'varchar', length: 2048, nullable: true, name: 'preview_url' })
  previewUrl: string | null;

  @JsonColumn({ name: 'header_metadata' })
  headerMetadata: Record<string, string>;

  @JsonColumn({ name: 'sidecars' })
  sidecars: AdapterSidecarRef[];

  @JsonColumn({ name: 'unmapped' })
  unmapped: Record<string, unknown>;

  @JsonColumn({ name: 'images' })
  images: unknown[];

  @JsonColumn({ name: 'warnings' })
  warnings: string[];

  /** `warnings` is not empty: what the `hasWarnings` filter reads (migration 1764300003010). */
  @Column({ type: 'boolean', name: 'has_warnings', default: false })
  hasWarnings: boolean;

  /** SHA-256 of what the files say about this adapter (`factsDigestOf`): a re-read that changes none of it is no update. */
  @Column({ type: 'varchar', length: 64, nullable: true, name: 'facts_digest' })
  factsDigest: string | null;

  /** Text the full-text index covers: name, words, tags, creator. */
  @Column({ type: 'text', name: 'search_text' })
  searchText: string;

  /** PostgreSQL only, maintained by the database: see `SearchVectorColumn`. Never loaded. */
  @SearchVectorColumn()
  searchVector?: never;

  // User fields
  @Column({ type: 'text', nullable: true })
  notes: string | null;

  @Column({ type: 'boolean', default: false })
  favorite: boolean;

  /** In the active set, the default selection of `POST /compose`; new adapters start inactive (migration 1764300003000). */
  @Column({ type: 'boolean', default: false })
  active: boolean;

  @Column({ type: 'integer', nullable: true })
  ordinal: number | null;

  @JsonColumn({ name: 'user_edited' })
  userEdited: AdapterUserField[];

  // Lifecycle
  @TimestampColumn({ nullable: true, name: 'missing_since' })
  missingSince: Date | null;

  @TimestampColumn({ name: 'last_ingested_at' })
  lastIngestedAt: Date;

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;

  @TimestampColumn({ name: 'updated_at' })
  updatedAt: Date;
}
