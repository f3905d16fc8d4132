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
import {
  AdapterBulkAction,
  type AdapterFacets,
  type AdapterPatch,
  AdapterSort,
  AdapterUserField,
  type BulkResult,
  type DuplicateGroup,
  MAX_BULK_IDS,
  SortOrder,
  type ValueCount,
} from '@app/adapters';

/** One adapter in a list: what a library grid or a picker needs. */
export class AdapterSummaryDto {
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
  civitaiModelId: number | null;
  civitaiVersionId: number | null;
  /** Civitai bitmask (1 PG … 32 Blocked), 0 = unrated. */
  nsfwLevel: number;
  nsfwOverride: number | null;
  /** Highest level bit of the override, else of the level. */
  nsfwMax: number;
  downloads: number;
  likes: number;
  rating: number | null;
  fileSize: number;
  sha256: string | null;
  /** `sha256` was computed from the file; false: it is a sidecar's claim (or absent). */
  sha256Verified: boolean;
  autoV2: string | null;
  hasPreview: boolean;
  preferredWeight: number | null;
  weightMin: number | null;
  weightMax: number | null;
  favorite: boolean;
  active: boolean;
  ordinal: number | null;
  missingSince: string | null;
  createdAt: string;
  updatedAt: string;
}

/** One adapter with everything its file and sidecars said. */
export class AdapterDto extends AdapterSummaryDto {
  /** The model's description (the version's when the model has none). */
  description: string | null;
  /** The Civitai version's own notes. */
  versionDescription: string | null;
  civitaiLookup: string;
  baseModelRaw: string | null;
  activationText: string | null;
  ratingCount: number | null;
  license: Record<string, unknown> | null;
  /** Civitai facts without a field of their own: `air` (resource id), `deleted` (gone from Civitai, per LoRA-Manager), `dislikes`, `favorites`, `comments`. */
  civitaiDetails: Record<string, unknown> | null;
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
  sidecars: Record<string, unknown>[];
  unmapped: Record<string, unknown>;
  images: Record<string, unknown>[];
  warnings: string[];
  notes: string | null;
  /** Fields the user set; a resync never overwrites them. */
  userEdited: AdapterUserField[];
  lastIngestedAt: string;
}

export class ValueCountDto implements ValueCount {
  value: string;
  count: number;
}

export class AdapterFacetsDto implements AdapterFacets {
  baseModel?: ValueCountDto[];
  tags?: ValueCountDto[];
}

export class AdapterPageDto {
  items: AdapterSummaryDto[];
  total: number;
  page: number;
  limit: number;
  pages: number;
  sort: AdapterSort;
  order: SortOrder;
  facets?: AdapterFacetsDto;
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
  affected: number;
  /** Ids that matched no adapter. */
  notFound: string[];
}

export class DuplicateGroupDto implements DuplicateGroup<AdapterSummaryDto> {
  sha256: string;
  count: number;
  /** Every member's hash was computed from its bytes; false: the group rests on at least one sidecar's claim. */
  verified: boolean;
  adapters: AdapterSummaryDto[];
}

export class DuplicatesPageDto {
  total: number;
  page: number;
  limit: number;
  groups: DuplicateGroupDto[];
}

export class RegisterAdapterDto {
  /** A `.safetensors` file inside a library root: absolute, or relative to a root. */
  @IsString()
  @MaxLength(4096)
  path: string;
}
