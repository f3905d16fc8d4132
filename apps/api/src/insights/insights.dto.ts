import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsDateString, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import {
  ACTIVITY_LIMITS,
  type ActivityItem,
  ActivityKind,
  type ActivityPage,
  ANALYTICS_LIMITS,
  type AdapterPairUsage,
  type AdapterUsage,
  type AdapterUsageRef,
  type AdapterUsageStats,
  type BackendStatus,
  type DeliveryOutcome,
  type DiskStatus,
  type FailureReason,
  FailureSource,
  type GenerationBucketCounts,
  type GenerationCounts,
  type GenerationStats,
  type LatencyStatus,
  type LibrarySummary,
  type ProcessStatus,
  type RecentImport,
  StatsBucket,
  type SystemStatus,
} from '@app/insights';
import { JobName, type QueueDepth } from '@app/core';
import { ApiDateTime, ApiInteger, ApiUuid } from '../common/api-docs.js';
import { OptionalIntegerQuery, toList } from '../common/query-params.js';
import type { Jsonified } from './jsonified.js';

export class RangeQueryDto {
  /** Start of the range (ISO 8601, inclusive); default `to` minus 7 days. */
  @IsOptional()
  @IsDateString({ strict: true })
  from?: string;

  /** End of the range (ISO 8601, exclusive); default now. */
  @IsOptional()
  @IsDateString({ strict: true })
  to?: string;
}

export class GenerationStatsQueryDto extends RangeQueryDto {
  /** `hour` or `day` (UTC); default `hour` for ranges up to 7 days, `day` beyond. */
  @IsOptional()
  @IsIn(Object.values(StatsBucket))
  @ApiProperty({ enum: StatsBucket, required: false })
  bucket?: StatsBucket;

  /** Only this backend, e.g. `sdnext-0`. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  backendId?: string;
}

export class TopQueryDto extends RangeQueryDto {
  /** How many rows, 1–100 (default 10 adapters and pairs, 20 failure reasons). */
  @OptionalIntegerQuery(1, ANALYTICS_LIMITS.maxTop)
  limit?: number;
}

export class ActivityQueryDto {
  /** Only these kinds (comma-separated or repeated): `import`, `generation`, `delivery`, `edit`. */
  @IsOptional()
  @Transform(toList)
  @IsIn(Object.values(ActivityKind), { each: true })
  @ArrayMaxSize(4)
  @ApiProperty({ enum: ActivityKind, isArray: true, required: false })
  kinds?: ActivityKind[];

  /** Page size, 1–100 (default 30). */
  @OptionalIntegerQuery(1, ACTIVITY_LIMITS.maxLimit)
  limit?: number;

  /** `nextCursor` of the previous page. */
  @IsOptional()
  @IsString()
  @MaxLength(512)
  @Matches(/^[A-Za-z0-9_-]+$/)
  cursor?: string;
}

// ---- responses

export class CountByNameDto {
  key: string;
  @ApiInteger({ minimum: 0 })
  count: number;
}

export class CountByLevelDto {
  /** Highest Civitai NSFW level: 0 none, 1 PG, 2 PG-13, 4 R, 8 X, 16 XXX, 32 blocked. */
  @ApiInteger({ minimum: 0 })
  key: number;
  @ApiInteger({ minimum: 0 })
  count: number;
}

export class LibraryTotalsDto implements Jsonified<LibrarySummary['totals']> {
  /** Adapters whose file is present. */
  @ApiInteger({ minimum: 0 })
  files: number;
  @ApiInteger({ minimum: 0 })
  bytesOnDisk: number;
  /** Present files whose SHA-256 was computed, in % (one decimal). */
  hashedPercent: number;
  /** Present files linked to a Civitai model or version, in %. */
  civitaiLinkedPercent: number;
  @ApiInteger({ minimum: 0 })
  withPreviews: number;
  @ApiInteger({ minimum: 0 })
  withWarnings: number;
  /** Records whose file is gone. */
  @ApiInteger({ minimum: 0 })
  tombstoned: number;
}

export class RecentImportDto implements Jsonified<RecentImport> {
  @ApiUuid()
  id: string;
  status: string;
  @ApiDateTime()
  createdAt: string;
  @ApiDateTime({ nullable: true })
  finishedAt: string | null;
  @ApiInteger({ minimum: 0 })
  added: number;
  @ApiInteger({ minimum: 0 })
  updated: number;
  @ApiInteger({ minimum: 0 })
  missing: number;
  @ApiInteger({ minimum: 0 })
  failed: number;
}

export class LibrarySummaryDto implements Jsonified<LibrarySummary> {
  totals: LibraryTotalsDto;
  byBaseModel: CountByNameDto[];
  /** By model type (LORA, LoCon, DoRA, …). */
  byType: CountByNameDto[];
  byNsfwLevel: CountByLevelDto[];
  /** The last 5 import runs. */
  recentImports: RecentImportDto[];
}

export class GenerationCountsDto implements Jsonified<GenerationCounts> {
  /** Null for jobs that never reached a backend. */
  @ApiProperty({ type: 'string', nullable: true })
  backendId: string | null;
  @ApiInteger({ minimum: 0 })
  count: number;
  @ApiInteger({ minimum: 0 })
  succeeded: number;
  @ApiInteger({ minimum: 0 })
  failed: number;
  @ApiInteger({ minimum: 0 })
  cancelled: number;
  /** Mean duration of the succeeded runs (ms). */
  @ApiProperty({ type: 'number', nullable: true })
  meanMs: number | null;
  /** Nearest-rank 95th percentile of the succeeded runs' durations (ms), rounded to two significant digits. */
  @ApiProperty({ type: 'number', nullable: true })
  p95Ms: number | null;
}

export class GenerationBucketDto extends GenerationCountsDto implements Jsonified<GenerationBucketCounts> {
  /** First instant of the bucket (UTC). */
  @ApiDateTime()
  start: string;
}

export class GenerationStatsDto implements Jsonified<GenerationStats> {
  @ApiDateTime()
  from: string;
  @ApiDateTime()
  to: string;
  @ApiProperty({ enum: StatsBucket })
  bucket: StatsBucket;
  /** One row per bucket and backend that had generations, oldest first. */
  series: GenerationBucketDto[];
  /** The whole range per backend. */
  totals: GenerationCountsDto[];
}

export class AdapterUsageDto implements Jsonified<AdapterUsage> {
  @ApiUuid()
  adapterId: string;
  /** Null when the record was deleted since. */
  @ApiProperty({ type: 'string', nullable: true })
  name: string | null;
  @ApiProperty({ type: 'string', nullable: true })
  baseModel: string | null;
  /** Images generated with it. */
  @ApiInteger({ minimum: 0 })
  images: number;
}

export class AdapterUsageRefDto implements Jsonified<AdapterUsageRef> {
  @ApiUuid()
  adapterId: string;
  @ApiProperty({ type: 'string', nullable: true })
  name: string | null;
}

export class AdapterPairUsageDto implements Jsonified<AdapterPairUsage> {
  @ApiProperty({ type: [AdapterUsageRefDto], minItems: 2, maxItems: 2 })
  adapters: AdapterUsageRefDto[];
  @ApiInteger({ minimum: 0 })
  images: number;
}

export class AdapterUsageStatsDto implements Jsonified<AdapterUsageStats> {
  @ApiDateTime()
  from: string;
  @ApiDateTime()
  to: string;
  adapters: AdapterUsageDto[];
  /** Adapters used together in one image. */
  pairs: AdapterPairUsageDto[];
}

export class FailureReasonDto implements Jsonified<FailureReason> {
  @ApiProperty({ enum: FailureSource })
  source: FailureSource;
  /** The message with numbers, ids and hashes folded to `#`. */
  reason: string;
  @ApiInteger({ minimum: 1 })
  count: number;
  /** One real message of the group. */
  example: string;
  @ApiDateTime()
  lastAt: string;
}

export class FailureStatsDto {
  @ApiDateTime()
  from: string;
  @ApiDateTime()
  to: string;
  reasons: FailureReasonDto[];
}

export class DeliveryOutcomeDto implements Jsonified<DeliveryOutcome> {
  mode: string;
  @ApiInteger({ minimum: 0 })
  total: number;
  @ApiInteger({ minimum: 0 })
  succeeded: number;
  @ApiInteger({ minimum: 0 })
  failed: number;
  @ApiInteger({ minimum: 0 })
  cancelled: number;
  /** Queued or running. */
  @ApiInteger({ minimum: 0 })
  pending: number;
}

export class DeliveryStatsDto {
  @ApiDateTime()
  from: string;
  @ApiDateTime()
  to: string;
  modes: DeliveryOutcomeDto[];
}

export class ActivityItemDto implements Jsonified<ActivityItem> {
  @ApiProperty({ enum: ActivityKind })
  kind: ActivityKind;
  /** The import run, generation job, delivery job or adapter edit. */
  @ApiUuid()
  id: string;
  @ApiDateTime()
  at: string;
  /** The job's current status; `edit` or `delete` for edits. */
  status: string;
  summary: string;
  @ApiUuid({ nullable: true })
  adapterId: string | null;
  /** The generation's backend or the delivery's mode. */
  @ApiProperty({ type: 'string', nullable: true })
  target: string | null;
  /** Edited user fields. */
  fields: string[];
}

export class ActivityPageDto implements Jsonified<ActivityPage> {
  items: ActivityItemDto[];
  @ApiProperty({ type: 'string', nullable: true })
  nextCursor: string | null;
  @ApiInteger({ minimum: 1 })
  limit: number;
}

export class BackendProgressDto {
  /** 0..1 */
  progress: number;
  @ApiInteger({ minimum: 0 })
  step: number;
  @ApiInteger({ minimum: 0 })
  steps: number;
  @ApiProperty({ type: 'number', nullable: true })
  etaSeconds: number | null;
  job: string;
}

export class BackendStatusDto implements Jsonified<BackendStatus> {
  id: string;
  /** Scheme, host and path; never credentials. */
  url: string;
  reachable: boolean;
  @ApiProperty({ enum: ['sdnext', 'a1111', 'unknown'] })
  flavour: string;
  @ApiProperty({ type: 'string', nullable: true })
  version: string | null;
  @ApiProperty({ type: 'string', nullable: true })
  currentModel: string | null;
  busy: boolean;
  /** Only while busy. */
  @ApiProperty({ type: BackendProgressDto, required: false })
  progress?: BackendProgressDto;
  @ApiProperty({ type: 'string', nullable: true })
  error: string | null;
}

export class QueueDepthDto implements QueueDepth {
  @ApiProperty({ enum: JobName })
  name: JobName;
  @ApiInteger({ minimum: 0 })
  waiting: number;
  @ApiInteger({ minimum: 0 })
  active: number;
  /** Waiting for a retry or a delay. */
  @ApiInteger({ minimum: 0 })
  delayed: number;
}

export class ProcessStatusDto implements Jsonified<ProcessStatus> {
  @ApiProperty({ enum: ['api', 'worker'] })
  kind: string;
  host: string;
  @ApiInteger({ minimum: 0 })
  pid: number;
  version: string;
  @ApiDateTime()
  startedAt: string;
  @ApiDateTime()
  lastBeatAt: string;
  /** Beat within the last 15 s. */
  alive: boolean;
}

export class LatencyStatusDto implements Jsonified<LatencyStatus> {
  ok: boolean;
  @ApiProperty({ type: 'number', nullable: true })
  latencyMs: number | null;
  @ApiProperty({ type: 'string', nullable: true })
  error: string | null;
}

export class DatabaseStatusDto extends LatencyStatusDto {
  /** `better-sqlite3` or `postgres`. */
  type: string;
}

export class DiskStatusDto implements Jsonified<DiskStatus> {
  /** `DATA_DIR` or a library root's id. */
  name: string;
  path: string;
  @ApiInteger({ minimum: 0, nullable: true })
  freeBytes: number | null;
  @ApiInteger({ minimum: 0, nullable: true })
  totalBytes: number | null;
  @ApiProperty({ type: 'string', nullable: true })
  error: string | null;
}

export class AliveCountsDto {
  @ApiInteger({ minimum: 0 })
  api: number;
  @ApiInteger({ minimum: 0 })
  worker: number;
}

export class SystemStatusDto implements Jsonified<SystemStatus> {
  version: string;
  @ApiInteger({ minimum: 0 })
  uptimeSeconds: number;
  @ApiDateTime()
  startedAt: string;
  @ApiProperty({ enum: ['embedded', 'scale-out'] })
  mode: 'embedded' | 'scale-out';
  database: DatabaseStatusDto;
  /** Absent in embedded mode. */
  @ApiProperty({ type: LatencyStatusDto, required: false })
  redis?: LatencyStatusDto;
  backends: BackendStatusDto[];
  queues: QueueDepthDto[];
  /** API and worker processes that wrote a heartbeat in the last 24 hours. */
  processes: ProcessStatusDto[];
  alive: AliveCountsDto;
  disks: DiskStatusDto[];
  @ApiDateTime()
  checkedAt: string;
}
