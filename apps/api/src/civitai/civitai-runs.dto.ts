import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsEnum,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { CivitaiRunKind, CivitaiRunStatus, CivitaiRunTrigger } from '@app/adapters';
import { CancelOutcome, type CivitaiRunCounts } from '@app/core';
import { IsOptionalNonNull } from '../common/validation.js';
import { ApiDateTime, ApiInteger, ApiUuid } from '../common/api-docs.js';
import { JobTimesDto } from '../common/list-page.dto.js';

export class CivitaiRunIdParamDto {
  @IsUUID()
  id: string;
}

export class CivitaiRunsQueryDto {
  /** Only runs of this kind. */
  @IsOptional()
  @IsEnum(CivitaiRunKind)
  kind?: CivitaiRunKind;
}

/** Which adapters, by the library list's filters (`GET /adapters`). */
export class CivitaiRunFilterDto {
  @IsOptionalNonNull()
  @IsString()
  @MaxLength(500)
  q?: string;

  @IsOptionalNonNull()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  baseModel?: string[];

  @IsOptionalNonNull()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(255, { each: true })
  tags?: string[];

  /** Library root id. */
  @IsOptionalNonNull()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,32}$/)
  root?: string;

  /** Folder relative to the root; that folder and below. */
  @IsOptionalNonNull()
  @IsString()
  @MaxLength(2048)
  folder?: string;
}

export class StartCivitaiRunDto {
  /** `lookup`: look adapters up by hash; `update_check`: fetch linked adapters' models and record newer versions. */
  @IsEnum(CivitaiRunKind)
  kind: CivitaiRunKind;

  /**
   * These adapters (up to 10,000). Without ids or a filter: every present hashed adapter without a Civitai version
   * not asked about within `CIVITAI_RECHECK_DAYS` (lookup), or every linked adapter (update check).
   */
  @IsOptionalNonNull()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10_000)
  @IsUUID('all', { each: true })
  adapterIds?: string[];

  /** The adapters matching these list filters (up to 10,000; an update check keeps the linked ones). */
  @IsOptionalNonNull()
  @ValidateNested()
  @Type(() => CivitaiRunFilterDto)
  filter?: CivitaiRunFilterDto;
}

export class CivitaiRunCountsDto implements CivitaiRunCounts {
  /** Adapters the run covers. */
  @ApiInteger({ minimum: 0 })
  total: number;
  /** Adapters done so far (a resumed run goes on after these). */
  @ApiInteger({ minimum: 0 })
  done: number;
  /** Lookup: Civitai knows the file; update check: the model was fetched. */
  @ApiInteger({ minimum: 0 })
  found: number;
  /** Lookup: marked "not on Civitai"; update check: the model is gone from Civitai. */
  @ApiInteger({ minimum: 0 })
  notFound: number;
  /** Update check: adapters with a newer version. */
  @ApiInteger({ minimum: 0 })
  withUpdates: number;
  /** Adapters that could not be done (listed in `failures`). */
  @ApiInteger({ minimum: 0 })
  failed: number;
}

export class CivitaiRunFailureDto {
  @ApiUuid()
  adapterId: string;
  reason: string;
}

export class CivitaiRunDto extends JobTimesDto {
  @ApiUuid()
  id: string;
  kind: CivitaiRunKind;
  status: CivitaiRunStatus;
  /** Who started it: the API, the CLI, a hash run (`CIVITAI_AUTO_LOOKUP`) or the schedule. */
  trigger: CivitaiRunTrigger;
  counts: CivitaiRunCountsDto;
  /** The first failures (up to 200). */
  failures: CivitaiRunFailureDto[];
  /** Why it failed (the Civitai failure's code first, e.g. `civitai_timeout: …`), or `cancelled`. */
  error: string | null;
}

export class CivitaiRunStartedDto {
  run: CivitaiRunDto;
  /** False when a run was already queued or running: that one is returned. */
  created: boolean;
}

export class CivitaiRunCancelDto {
  run: CivitaiRunDto;
  outcome: CancelOutcome;
}

export class CivitaiLinkBodyDto {
  /** A version id, a Civitai model or version URL, a download link or an AIR; a model alone takes its newest version. */
  @IsString()
  @MinLength(1)
  @MaxLength(2048)
  reference: string;
}

export class CivitaiLinkDto {
  @ApiUuid()
  adapterId: string;
  @ApiInteger({ minimum: 1, nullable: true })
  modelId: number | null;
  @ApiInteger({ minimum: 1 })
  versionId: number;
  /** One of the version's files has this file's SHA-256. */
  hashMatches: boolean;
}

export class CivitaiNewerVersionDto {
  @ApiInteger({ minimum: 1 })
  id: number;
  name: string | null;
  @ApiDateTime({ nullable: true })
  publishedAt: string | null;
  baseModel: string | null;
  /** The primary file's size in bytes. */
  @ApiInteger({ minimum: 0, nullable: true })
  fileSize: number | null;
  /** Early access: downloads may need a purchase or membership for now. */
  earlyAccess: boolean;
}

export class CivitaiUpdateCheckDto {
  @ApiUuid()
  adapterId: string;
  @ApiInteger({ minimum: 1 })
  modelId: number;
  /** False when Civitai no longer knows the model. */
  modelFound: boolean;
  /** Versions newer than the adapter's, newest first. */
  newer: CivitaiNewerVersionDto[];
  @ApiDateTime()
  checkedAt: string;
}
