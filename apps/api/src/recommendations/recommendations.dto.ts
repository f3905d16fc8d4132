import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsEnum,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import {
  type FeedbackTotals,
  IndexRebuildStatus,
  type Recommendation,
  type RecommendedAdapter,
  RecommendationKind,
  type ScoreParts,
} from '@app/insights';
import { OptionalIntegerQuery } from '../common/query-params.js';
import { IsOptionalNonNull } from '../common/validation.js';
import { ApiDateTime, ApiInteger, ApiUuid } from '../common/api-docs.js';

const toBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

/** Most recommendations one answer may list. */
export const MAX_RECOMMENDATIONS = 100;

export class RecommendationAdapterParamsDto {
  @IsUUID()
  id: string;
}

export class SimilarQueryDto {
  /** Hits to return (1–100, default 10). */
  @OptionalIntegerQuery(1, MAX_RECOMMENDATIONS)
  limit?: number;

  /** `true`: keep adapters of other base-model families, flagged `compatible: false` (default: left out). */
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  includeIncompatible?: boolean;
}

export class ForPromptDto {
  /** The prompt text; `<lora:…>` tags and weights are ignored. */
  @IsString()
  @MinLength(1)
  @MaxLength(4000)
  prompt: string;

  /** The checkpoint's base model (e.g. `SDXL 1.0`): adapters of other families are left out or flagged. */
  @IsOptionalNonNull()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  baseModel?: string;

  /** Hits to return (1–100, default 10). */
  @IsOptionalNonNull()
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_RECOMMENDATIONS })
  @IsInt()
  @Min(1)
  @Max(MAX_RECOMMENDATIONS)
  limit?: number;

  @IsOptionalNonNull()
  @IsBoolean()
  includeIncompatible?: boolean;
}

export class ByTriggerQueryDto {
  /** A trigger or trained word; the exact phrase ranks first, phrases containing it after. */
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  word: string;

  /** Only adapters compatible with this base model. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  baseModel?: string;

  @OptionalIntegerQuery(1, MAX_RECOMMENDATIONS)
  limit?: number;
}

export class FeedbackDto {
  /** Where the recommendation was shown. */
  @ApiProperty({ enum: RecommendationKind, enumName: 'RecommendationKind' })
  @IsEnum(RecommendationKind)
  kind: RecommendationKind;

  /** The recommended adapter. */
  @IsUUID()
  adapterId: string;

  /** The adapter whose similar list showed it (required for `similar`). */
  @IsOptionalNonNull()
  @IsUUID()
  sourceAdapterId?: string;

  /** `true`: useful; `false`: not useful. */
  @IsBoolean()
  useful: boolean;

  /** The prompt a `prompt` recommendation answered. */
  @IsOptionalNonNull()
  @IsString()
  @MaxLength(4000)
  prompt?: string;
}

export class FeedbackTotalsDto implements FeedbackTotals {
  @ApiInteger({ minimum: 0 })
  useful: number;
  @ApiInteger({ minimum: 0 })
  notUseful: number;
}

export class FeedbackRecordedDto {
  @ApiUuid()
  id: string;
  /** Every feedback on this adapter so far. */
  totals: FeedbackTotalsDto;
}

export class RecommendedAdapterDto implements RecommendedAdapter {
  @ApiUuid()
  id: string;
  name: string;
  baseModel: string;
  modelType: string;
  tags: string[];
  triggerWords: string[];
  hasPreview: boolean;
}

export class ScorePartsDto implements ScoreParts {
  /** 0..1: how alike the texts are (for a prompt: relative to the best hit). */
  text: number;
  /** 0..1: generated together, relative to the most. */
  coUsage: number;
  /** -1..1: useful minus not useful, squashed. */
  feedback: number;
}

export class RecommendationDto implements Recommendation {
  adapter: RecommendedAdapterDto;
  /** The weighted sum of `parts`: text 0.55, co-usage 0.25, feedback 0.2 (for a prompt: text 0.8, feedback 0.2). */
  score: number;
  parts: ScorePartsDto;
  compatible: boolean;
  matchedTerms: string[];
  @ApiInteger({ minimum: 0 })
  coUsageCount: number;
  feedback: FeedbackTotalsDto;
  reasons: string[];
}

export class RecommendationListDto {
  items: RecommendationDto[];
}

export class IndexRebuildDto {
  /** The stored version: every process rebuilds its index when its own is older. */
  @ApiInteger({ minimum: 0 })
  version: number;
  @ApiProperty({ enum: [...Object.values(IndexRebuildStatus), null], nullable: true, type: String })
  status: IndexRebuildStatus | null;
  /** The last rebuild job (follow it with `GET /jobs/recommendations.rebuild/{id}`). */
  @ApiUuid({ nullable: true })
  jobId: string | null;
  @ApiInteger({ minimum: 0 })
  documents: number;
  @ApiInteger({ minimum: 0 })
  terms: number;
  @ApiInteger({ minimum: 0, nullable: true })
  buildMs: number | null;
  @ApiProperty({ type: String, nullable: true })
  error: string | null;
  @ApiDateTime({ nullable: true })
  startedAt: string | null;
  @ApiDateTime({ nullable: true })
  builtAt: string | null;
}

export class IndexStatsDto {
  /** The text model (`lexical-bm25`: BM25 over name, trigger and trained words, tags, creator, description). */
  model: string;
  /** The stored version this process's index was built for (0: before any rebuild job). */
  @ApiInteger({ minimum: 0 })
  version: number;
  /** Adapters in this process's index. */
  @ApiInteger({ minimum: 0 })
  documents: number;
  /** Distinct terms. */
  @ApiInteger({ minimum: 0 })
  terms: number;
  @ApiDateTime()
  builtAt: string;
  @ApiInteger({ minimum: 0 })
  buildMs: number;
  /** The last rebuild job's record, shared by every process; status and jobId are null before the first. */
  @ApiProperty({ type: IndexRebuildDto })
  lastRebuild: IndexRebuildDto;
}
