import { ApiProperty } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsBoolean,
  IsDateString,
  IsInt,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import {
  EXPORT_LIMITS,
  type ExportEstimate,
  RESULT_LIMITS,
  type RetentionPolicy,
  type RetentionReport,
  type RetentionTotals,
} from '@app/results';
import { IsOptionalNonNull } from '../common/validation.js';
import { ApiDateTime, ApiInteger } from '../common/api-docs.js';

/** What to export: `ids`, or the list's filters (every result when none is given). Not both. */
export class ExportResultsDto {
  /** These results, 1–10,000 ids, in this order. */
  @IsOptionalNonNull()
  @IsUUID(undefined, { each: true })
  @ArrayMinSize(1)
  @ArrayMaxSize(EXPORT_LIMITS.maxIds)
  ids?: string[];

  /** Created at or after (ISO 8601). */
  @IsOptionalNonNull()
  @IsDateString({ strict: true })
  from?: string;

  /** Created before (ISO 8601). */
  @IsOptionalNonNull()
  @IsDateString({ strict: true })
  to?: string;

  @IsOptionalNonNull()
  @IsUUID()
  adapterId?: string;

  @IsOptionalNonNull()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  backendId?: string;

  @IsOptionalNonNull()
  @IsInt()
  @Min(0)
  @Max(5)
  minRating?: number;

  @IsOptionalNonNull()
  @IsBoolean()
  favorite?: boolean;

  @IsOptionalNonNull()
  @IsString()
  @MinLength(1)
  @MaxLength(RESULT_LIMITS.maxQuery)
  q?: string;

  @IsOptionalNonNull()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  baseModel?: string;
}

export class ExportEstimateDto implements ExportEstimate {
  @ApiInteger({ minimum: 0 })
  count: number;
  /** Image bytes as recorded. */
  @ApiInteger({ minimum: 0 })
  bytes: number;
  /** About what the ZIP will weigh (images are stored as they are, not recompressed). */
  @ApiInteger({ minimum: 0 })
  archiveBytes: number;
}

export class RetentionPolicyDto implements RetentionPolicy {
  /** RESULTS_MAX_AGE_DAYS; null = no age limit. */
  @ApiProperty({ type: 'number', nullable: true })
  maxAgeDays: number | null;
  /** RESULTS_MAX_TOTAL_MB; null = no size limit. */
  @ApiProperty({ type: 'number', nullable: true })
  maxTotalMb: number | null;
  /** RESULTS_KEEP_RATING: results rated at least this are never removed (favorites never are). */
  @ApiInteger({ minimum: 1, maximum: 5 })
  keepRating: number;
  /** RESULTS_RETENTION_HOURS; null = never scheduled. */
  @ApiProperty({ type: 'number', nullable: true })
  intervalHours: number | null;
}

export class RetentionTotalsDto implements RetentionTotals {
  @ApiInteger({ minimum: 0 })
  count: number;
  @ApiInteger({ minimum: 0 })
  bytes: number;
}

export class RetentionRemovedDto extends RetentionTotalsDto {
  @ApiDateTime({ nullable: true })
  oldest: string | null;
  @ApiDateTime({ nullable: true })
  newest: string | null;
}

export class RetentionReportDto implements RetentionReport {
  dryRun: boolean;
  /** False when no age or size limit is set: nothing is ever removed. */
  active: boolean;
  policy: RetentionPolicyDto;
  /** Removed, or (dry run) that would be. */
  removed: RetentionRemovedDto;
  before: RetentionTotalsDto;
  after: RetentionTotalsDto;
  /** Up to 20 removed ids, oldest first. */
  @ApiProperty({ type: 'string', format: 'uuid', isArray: true })
  sample: string[];
  @ApiDateTime()
  startedAt: string;
  @ApiDateTime()
  finishedAt: string;
}
