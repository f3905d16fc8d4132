import { ArrayMaxSize, IsArray, IsBoolean, IsEnum, IsNotEmpty, IsString, IsUUID, MaxLength } from 'class-validator';
import { IsOptionalNonNull } from '../common/validation.js';
import { HashPolicy, type ImportFailure, ImportRunStatus } from '@app/adapters';
import type { ImportCounts } from '@app/core';
import { ApiInteger, ApiUuid } from '../common/api-docs.js';
import { JobTimesDto } from '../common/list-page.dto.js';

export class StartImportDto {
  /** Library roots or folders inside them (absolute, or relative to a root); all roots when omitted. */
  @IsOptionalNonNull()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(4096, { each: true })
  paths?: string[];

  /** Report what would change and write nothing. */
  @IsOptionalNonNull()
  @IsBoolean()
  dryRun?: boolean;

  /** Re-read every file and sidecar, even unchanged ones (hashes of unchanged files are reused). */
  @IsOptionalNonNull()
  @IsBoolean()
  forceResync?: boolean;

  /** `lazy` hashes only when needed (moves); `full` hashes every new or changed file. */
  @IsOptionalNonNull()
  @IsEnum(HashPolicy)
  hash?: HashPolicy;

  /**
   * Globs of files and folders to skip in this run, relative to each library root (`old/**`, `**\/*.bak.safetensors`),
   * on top of `LORA_IGNORE`. A file that was indexed and is now skipped becomes a tombstone, like a deleted one.
   */
  @IsOptionalNonNull()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(1000, { each: true })
  ignore?: string[];
}

export class ImportIdParamDto {
  @IsUUID()
  id: string;
}

export class ImportCountsDto implements ImportCounts {
  /** Files found: added + updated + unchanged + moved + restored + failed. */
  @ApiInteger({ minimum: 0 })
  seen: number;
  @ApiInteger({ minimum: 0 })
  added: number;
  /** Files whose facts changed (a re-read that changed nothing counts as unchanged). */
  @ApiInteger({ minimum: 0 })
  updated: number;
  @ApiInteger({ minimum: 0 })
  unchanged: number;
  @ApiInteger({ minimum: 0 })
  moved: number;
  /** Indexed files that are gone (not part of `seen`). */
  @ApiInteger({ minimum: 0 })
  missing: number;
  @ApiInteger({ minimum: 0 })
  restored: number;
  /** Files that could not be read as a LoRA (a broken sidecar is a warning on the adapter instead). */
  @ApiInteger({ minimum: 0 })
  failed: number;
  /** Files whose hashes this run computed. */
  @ApiInteger({ minimum: 0 })
  hashed: number;
}

export class ImportFailureDto implements ImportFailure {
  path: string;
  reason: string;
}

export class ImportRunDto extends JobTimesDto {
  @ApiUuid()
  id: string;
  status: ImportRunStatus;
  roots: string[];
  dryRun: boolean;
  forceResync: boolean;
  hash: HashPolicy;
  /** This run's own ignore globs (`LORA_IGNORE` applies too). */
  ignore: string[];
  counts: ImportCountsDto;
  /** The first failures (up to 1,000), each with path and reason. */
  failures: ImportFailureDto[];
  @ApiInteger({ minimum: 0 })
  failureCount: number;
  error: string | null;
}
