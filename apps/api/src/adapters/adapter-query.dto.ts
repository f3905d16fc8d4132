import { applyDecorators } from '@nestjs/common';
import { ThumbnailSizeQuery, type ThumbnailSize } from '../common/thumbnail-response.js';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  IsBoolean,
  IsEnum,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
} from 'class-validator';
import {
  AdapterFacet,
  type AdapterListQuery,
  AdapterSort,
  MAX_FILTER_VALUES,
  NSFW_MAX_LEVELS,
  SortOrder,
  TagMode,
} from '@app/adapters';
import { PAGE_BOUNDS } from '../common/page-query.dto.js';
import { toInteger, OptionalIntegerQuery, toList } from '../common/query-params.js';

/** An optional query parameter holding a list of strings: comma-separated or repeated, each at most `maxLength`. */
const StringListParam = (maxLength: number): PropertyDecorator =>
  applyDecorators(
    IsOptional(),
    Transform(toList),
    IsString({ each: true }),
    MaxLength(maxLength, { each: true }),
    ArrayMaxSize(MAX_FILTER_VALUES),
  );

/** `true`/`false` (or 1/0) → boolean; anything else stays a string and fails `@IsBoolean`. */
const toBoolean = ({ value }: { value: unknown }): unknown => {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  return value;
};

/** Civitai ids are 32-bit: the column is an `integer` on both databases. */
const MAX_CIVITAI_ID = 2_147_483_647;

export class ListAdaptersQueryDto implements AdapterListQuery {
  /** Full-text search over name, trained words, trigger words, tags and creator; each term matches as a prefix. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;

  /**
   * One or more base models (comma-separated or repeated), e.g. `SDXL 1.0,Pony`: any case, or an alias such as
   * `sdxl`, `pony`, `sd15`, `flux`; a value that names no base model is reported in the response's `warnings`.
   */
  @StringListParam(64)
  baseModel?: string[];

  /** Tags (comma-separated or repeated); see `tagMode`. */
  @StringListParam(255)
  tags?: string[];

  /** `any` (default): at least one of the tags; `all`: every one. */
  @IsOptional()
  @IsEnum(TagMode)
  tagMode?: TagMode;

  /** Model types (LORA, LoCon, DoRA, …). */
  @StringListParam(32)
  modelType?: string[];

  /** Hide adapters whose highest NSFW level is above this bit (1 PG, 2 PG-13, 4 R, 8 X, 16 XXX, 32 Blocked); unrated ones stay. */
  @IsOptional()
  @Transform(toInteger)
  @IsIn([...NSFW_MAX_LEVELS])
  nsfwMax?: number;

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  active?: boolean;

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  favorite?: boolean;

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  hasPreview?: boolean;

  /** `true`: adapters whose import left warnings (a broken sidecar, a hash that disagrees, …); `false`: the others. */
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  hasWarnings?: boolean;

  /** `true`: linked adapters whose last Civitai update check found a newer version (`false`: the others). */
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  hasUpdate?: boolean;

  /** `true`: only adapters whose file vanished (tombstones); default `false`. */
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  missing?: boolean;

  /** Library root id. */
  @IsOptional()
  @IsString()
  @Matches(/^[0-9a-z]{1,32}$/)
  root?: string;

  /** Folder prefix relative to the root: `characters` matches `characters` and everything below it. */
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  folder?: string;

  @OptionalIntegerQuery(1, MAX_CIVITAI_ID)
  civitaiModelId?: number;

  /** Default: `relevance` with `q`, else `name`. */
  @IsOptional()
  @IsEnum(AdapterSort)
  sort?: AdapterSort;

  /** Default: `asc` for name, else `desc`. */
  @IsOptional()
  @IsEnum(SortOrder)
  order?: SortOrder;

  @OptionalIntegerQuery(1, PAGE_BOUNDS.maxPage)
  page?: number;

  /** Page size, 1 to 200. */
  @OptionalIntegerQuery(1, PAGE_BOUNDS.maxLimit)
  limit?: number;

  /** Facet counts for the same filters: `baseModel`, `tags` (top 50). */
  @IsOptional()
  @Transform(toList)
  @IsEnum(AdapterFacet, { each: true })
  facets?: AdapterFacet[];
}

export class AdapterIdParamDto {
  @IsUUID()
  id: string;
}

export class PreviewQueryDto {
  @ThumbnailSizeQuery('A WebP thumbnail of the preview, this many pixels on its long side; absent: the file itself')
  size?: ThumbnailSize;
}

export class TagCountsQueryDto {
  /** Only tags that start with this text. */
  @IsOptional()
  @IsString()
  @MaxLength(255)
  prefix?: string;

  @OptionalIntegerQuery(1, 1000)
  limit?: number;
}

export class DuplicatesQueryDto {
  @OptionalIntegerQuery(1, PAGE_BOUNDS.maxPage)
  page?: number;

  @OptionalIntegerQuery(1, PAGE_BOUNDS.maxLimit)
  limit?: number;

  /** `true`: only hashes computed from the files (a sidecar's claimed SHA-256 can be wrong). */
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  verified?: boolean;
}
