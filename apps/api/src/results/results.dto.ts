import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsBoolean,
  IsDateString,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import {
  RESULT_LIMITS,
  type ResultListQuery,
  type ResultLora,
  ResultOrder,
  ResultSort,
  type ReusedResult,
} from '@app/results';
import { IsOptionalNonNull } from '../common/validation.js';
import { OptionalIntegerQuery } from '../common/query-params.js';
import { ApiDateTime, ApiInteger, ApiUuid } from '../common/api-docs.js';
import { GenerationRequestDto } from '../generation/generation.dto.js';

const toBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

const TAG = /^[^,\n\r]+$/;

export class ResultParamsDto {
  @IsUUID()
  id: string;
}

export class ListResultsQueryDto implements Omit<ResultListQuery, 'from' | 'to'> {
  /** Created at or after (ISO 8601). */
  @IsOptional()
  @IsDateString({ strict: true })
  from?: string;

  /** Created before (ISO 8601). */
  @IsOptional()
  @IsDateString({ strict: true })
  to?: string;

  /** Results that used this library adapter. */
  @IsOptional()
  @IsUUID()
  adapterId?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  backendId?: string;

  /** Rated at least this (1–5). */
  @OptionalIntegerQuery(0, 5)
  minRating?: number;

  /** `true` or `false`. */
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  favorite?: boolean;

  /** Text found in the prompt or the negative prompt. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(RESULT_LIMITS.maxQuery)
  q?: string;

  /** Results that used a library adapter of this base model, e.g. `SDXL 1.0`. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  baseModel?: string;

  /** `createdAt` (default) or `rating`. */
  @IsOptional()
  @IsIn(Object.values(ResultSort))
  @ApiProperty({ enum: ResultSort, required: false })
  sort?: ResultSort;

  /** `desc` (default) or `asc`. */
  @IsOptional()
  @IsIn(Object.values(ResultOrder))
  @ApiProperty({ enum: ResultOrder, required: false })
  order?: ResultOrder;

  /** Page size, 1–200 (default 50). */
  @OptionalIntegerQuery(1, RESULT_LIMITS.maxLimit)
  limit?: number;

  /** `nextCursor` of the previous page. */
  @IsOptional()
  @IsString()
  @MaxLength(512)
  @Matches(/^[A-Za-z0-9_-]+$/)
  cursor?: string;
}

export class ReuseResultQueryDto {
  /** `true` (default): the image's seed; `false`: a random seed (`-1`). */
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  keepSeed?: boolean;
}

export class ResultLoraDto implements ResultLora {
  @ApiUuid({ nullable: true })
  adapterId: string | null;
  /** The name inside the `<lora:name:weight>` token sent. */
  name: string;
  weight: number;
  /** The adapter's SHA-256 when the result was made. */
  sha256: string | null;
  autov2: string | null;
  baseModel: string | null;
}

export class ResultDto {
  @ApiUuid()
  id: string;
  /** The generation job that made it. */
  @ApiUuid()
  jobId: string;
  @ApiInteger({ minimum: 0 })
  imageIndex: number;
  /** Where the image is stored (FileStorage key). */
  storageKey: string;
  @ApiProperty({ enum: ['png', 'jpeg', 'webp', 'bin'] })
  format: string;
  contentType: string;
  @ApiInteger({ minimum: 0, nullable: true })
  width: number | null;
  @ApiInteger({ minimum: 0, nullable: true })
  height: number | null;
  @ApiInteger({ minimum: 0 })
  bytes: number;
  @ApiInteger({ nullable: true })
  seed: number | null;
  /** The txt2img body sent (SD.Next wire names). */
  request: Record<string, unknown>;
  prompt: string;
  negativePrompt: string | null;
  loras: ResultLoraDto[];
  /** Checkpoint asked for or reported. */
  model: string | null;
  backendId: string;
  @ApiDateTime({ nullable: true })
  startedAt: string | null;
  @ApiDateTime()
  finishedAt: string;
  @ApiInteger({ minimum: 0, nullable: true })
  durationMs: number | null;
  @ApiInteger({ minimum: 0, maximum: 5 })
  rating: number;
  favorite: boolean;
  tags: string[];
  notes: string | null;
  /** Download URL of the original. */
  url: string;
  @ApiDateTime()
  createdAt: string;
  @ApiDateTime()
  updatedAt: string;
}

export class ResultListDto {
  items: ResultDto[];
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
  @ApiInteger({ minimum: 1, maximum: RESULT_LIMITS.maxLimit })
  limit: number;
}

export class PatchResultDto {
  /** 0 (unrated) to 5. */
  @IsOptionalNonNull()
  @IsInt()
  @Min(0)
  @Max(5)
  rating?: number;

  @IsOptionalNonNull()
  @IsBoolean()
  favorite?: boolean;

  /** Replaces the tags (trimmed, lower-cased, unique). */
  @IsOptionalNonNull()
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(RESULT_LIMITS.maxTagLength, { each: true })
  @Matches(TAG, { each: true })
  @ArrayMaxSize(RESULT_LIMITS.maxTags)
  tags?: string[];

  /** Null clears them. */
  @IsOptional()
  @IsString()
  @MaxLength(RESULT_LIMITS.maxNotes)
  notes?: string | null;
}

export class ResultIdsDto {
  /** 1–1,000 result ids. */
  @IsUUID(undefined, { each: true })
  @ArrayMinSize(1)
  @ArrayMaxSize(RESULT_LIMITS.maxBulk)
  ids: string[];
}

export class BulkFavoriteDto extends ResultIdsDto {
  @IsBoolean()
  favorite: boolean;
}

export class BulkTagDto extends ResultIdsDto {
  @IsOptionalNonNull()
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(RESULT_LIMITS.maxTagLength, { each: true })
  @Matches(TAG, { each: true })
  @ArrayMaxSize(RESULT_LIMITS.maxTags)
  add?: string[];

  @IsOptionalNonNull()
  @IsString({ each: true })
  @MaxLength(RESULT_LIMITS.maxTagLength, { each: true })
  @ArrayMaxSize(RESULT_LIMITS.maxTags)
  remove?: string[];
}

export class BulkOutcomeDto {
  /** Ids acted on. */
  done: string[];
  /** Ids that name no result. */
  missing: string[];
}

export class ReusedLoraDto {
  @ApiUuid({ nullable: true })
  adapterId: string | null;
  name: string;
  weight: number;
}

export class ReusedResultDto implements ReusedResult {
  /** Post it to `generation/queue-generation` or `generation/generate`. */
  request: GenerationRequestDto;
  loras: ReusedLoraDto[];
}
