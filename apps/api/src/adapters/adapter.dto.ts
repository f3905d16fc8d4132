import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsEnum,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { IsOptionalNonNull } from '../common/validation.js';
import { ApiProperty } from '@nestjs/swagger';
import {
  AdapterBulkAction,
  type AdapterFacets,
  type AdapterListWarning,
  AdapterListWarningCode,
  type AdapterPatch,
  AdapterSort,
  AdapterUserField,
  type BulkResult,
  type DuplicateGroup,
  MAX_BULK_IDS,
  SortOrder,
  type ValueCount,
} from '@app/adapters';
import { ApiDateTime, ApiInteger, ApiUuid } from '../common/api-docs.js';

/** One adapter in a list: what a library grid or a picker needs. */
export class AdapterSummaryDto {
  @ApiUuid()
  id: string;
  name: string;
  versionName: string | null;
  fileName: string;
  rootId: string;
  relativePath: string;
  folder: string;
  baseModel: string;
  modelType: string;
  creator: string | null;
  tags: string[];
  trainedWords: string[];
  triggerWords: string[];
  @ApiInteger({ nullable: true })
  civitaiModelId: number | null;
  @ApiInteger({ nullable: true })
  civitaiVersionId: number | null;
  /** Civitai bitmask (1 PG … 32 Blocked), 0 = unrated. */
  @ApiInteger({ minimum: 0, maximum: 63 })
  nsfwLevel: number;
  @ApiInteger({ minimum: 0, maximum: 63, nullable: true })
  nsfwOverride: number | null;
  /** Highest level bit of the override, else of the level. */
  @ApiInteger({ minimum: 0, maximum: 32 })
  nsfwMax: number;
  @ApiInteger({ minimum: 0 })
  downloads: number;
  @ApiInteger({ minimum: 0 })
  likes: number;
  rating: number | null;
  @ApiInteger({ minimum: 0 })
  fileSize: number;
  sha256: string | null;
  /** `sha256` was computed from the file; false: it is a sidecar's claim (or absent). */
  sha256Verified: boolean;
  autoV2: string | null;
  hasPreview: boolean;
  /** The import left warnings on this adapter (listed in `warnings` of `GET /adapters/{id}`). */
  hasWarnings: boolean;
  /** Lists and `GET /adapters/{id}`: the last Civitai update check found a newer version of this adapter's model. */
  hasUpdate?: boolean;
  preferredWeight: number | null;
  weightMin: number | null;
  weightMax: number | null;
  favorite: boolean;
  active: boolean;
  @ApiInteger({ minimum: 0, nullable: true })
  ordinal: number | null;
  @ApiDateTime({ nullable: true })
  missingSince: string | null;
  @ApiDateTime()
  createdAt: string;
  @ApiDateTime()
  updatedAt: string;
}

/** One adapter with everything its file and sidecars said. */
/** A version of the adapter's Civitai model newer than its own (from the last update check). */
export class AdapterNewerVersionDto {
  @ApiInteger({ minimum: 1 })
  id: number;
  name: string | null;
  @ApiDateTime({ nullable: true })
  publishedAt: string | null;
  baseModel: string | null;
  /** The primary file's size in bytes. */
  @ApiInteger({ minimum: 0, nullable: true })
  fileSize: number | null;
  earlyAccess: boolean;
}

export class AdapterDto extends AdapterSummaryDto {
  /** `GET /adapters/{id}`: newer versions found by the last Civitai update check, newest first. */
  civitaiNewerVersions?: AdapterNewerVersionDto[];
  /** `GET /adapters/{id}`: when the last update check ran for the adapter's current version. */
  @ApiDateTime({ nullable: true })
  civitaiUpdateCheckedAt?: string | null;
  /** The model's description (the version's when the model has none). */
  description: string | null;
  /** The Civitai version's own notes. */
  versionDescription: string | null;
  civitaiLookup: string;
  baseModelRaw: string | null;
  activationText: string | null;
  @ApiInteger({ minimum: 0, nullable: true })
  ratingCount: number | null;
  license: Record<string, unknown> | null;
  /** Civitai facts without a field of their own: `air` (resource id), `deleted` (gone from Civitai, per LoRA-Manager), `dislikes`, `favorites`, `comments`. */
  civitaiDetails: Record<string, unknown> | null;
  @ApiDateTime({ nullable: true })
  publishedAt: string | null;
  primaryFile: Record<string, unknown> | null;
  fileMtimeMs: number;
  autoV1: string | null;
  autoV3: string | null;
  blake3: string | null;
  crc32: string | null;
  /** Relative to the adapter's root; served by `GET /adapters/{id}/preview`. */
  previewPath: string | null;
  /** Header key of the image embedded in the LoRA, served by the same route when there is no preview file. */
  previewEmbedded: string | null;
  /** Remote preview image (Civitai) when known. */
  previewUrl: string | null;
  headerMetadata: Record<string, string>;
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } })
  sidecars: Record<string, unknown>[];
  unmapped: Record<string, unknown>;
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } })
  images: Record<string, unknown>[];
  warnings: string[];
  notes: string | null;
  /** Fields the user set; a resync never overwrites them. */
  userEdited: AdapterUserField[];
  @ApiDateTime()
  lastIngestedAt: string;
}

export class ValueCountDto implements ValueCount {
  value: string;
  @ApiInteger({ minimum: 0 })
  count: number;
}

export class AdapterFacetsDto implements AdapterFacets {
  baseModel?: ValueCountDto[];
  tags?: ValueCountDto[];
}

/** A list request was answered, but part of it matched nothing the library knows. */
export class AdapterListWarningDto implements AdapterListWarning {
  code: AdapterListWarningCode;
  /** The query parameter at fault, e.g. `baseModel`. */
  field: string;
  /** Its value at fault, as sent. */
  value: string;
  message: string;
}

export class AdapterPageDto {
  items: AdapterSummaryDto[];
  @ApiInteger({ minimum: 0 })
  total: number;
  @ApiInteger({ minimum: 1 })
  page: number;
  @ApiInteger({ minimum: 1, maximum: 200 })
  limit: number;
  @ApiInteger({ minimum: 0 })
  pages: number;
  sort: AdapterSort;
  order: SortOrder;
  facets?: AdapterFacetsDto;
  /** E.g. a `baseModel` value that is no known base model (by name, in any case, or alias) and no adapter has. */
  warnings: AdapterListWarningDto[];
}

export class PatchAdapterDto implements AdapterPatch {
  @IsOptionalNonNull()
  @IsString()
  @MinLength(1)
  @MaxLength(512)
  name?: string;

  /** The trigger words chosen for prompts (replaces the list). */
  @IsOptionalNonNull()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  triggerWords?: string[];

  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-10)
  @Max(10)
  preferredWeight?: number | null;

  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-10)
  @Max(10)
  weightMin?: number | null;

  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-10)
  @Max(10)
  weightMax?: number | null;

  @IsOptional()
  @IsString()
  @MaxLength(20_000)
  notes?: string | null;

  @IsOptionalNonNull()
  @IsBoolean()
  favorite?: boolean;

  @IsOptionalNonNull()
  @IsBoolean()
  active?: boolean;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  ordinal?: number | null;

  /** Civitai nsfw bitmask 0..63 (`null` returns to the source's level). */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(63)
  nsfwOverride?: number | null;

  @IsOptionalNonNull()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  baseModel?: string;

  /** Replaces the adapter's tags (stored lower-cased). */
  @IsOptionalNonNull()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(255, { each: true })
  tags?: string[];
}

export class ActivateAdapterDto {
  /** Position among active adapters. */
  @IsOptionalNonNull()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  ordinal?: number;
}

export class BulkAdapterActionDto {
  @IsEnum(AdapterBulkAction)
  action: AdapterBulkAction;

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BULK_IDS)
  @IsUUID('all', { each: true })
  ids: string[];
}

export class BulkResultDto implements BulkResult {
  action: AdapterBulkAction;
  @ApiInteger({ minimum: 0 })
  affected: number;
  /** Ids that matched no adapter. */
  @ApiProperty({ type: 'string', format: 'uuid', isArray: true })
  notFound: string[];
}

export class DuplicateGroupDto implements DuplicateGroup<AdapterSummaryDto> {
  sha256: string;
  @ApiInteger({ minimum: 2 })
  count: number;
  /** Every member's hash was computed from its bytes; false: the group rests on at least one sidecar's claim. */
  verified: boolean;
  adapters: AdapterSummaryDto[];
}

export class DuplicatesPageDto {
  @ApiInteger({ minimum: 0 })
  total: number;
  @ApiInteger({ minimum: 1 })
  page: number;
  @ApiInteger({ minimum: 1, maximum: 200 })
  limit: number;
  groups: DuplicateGroupDto[];
}

export class RegisterAdapterDto {
  /** A `.safetensors` file inside a library root: absolute, or relative to a root. */
  @IsString()
  @MaxLength(4096)
  path: string;
}
