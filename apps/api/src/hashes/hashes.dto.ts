import { IsUUID } from 'class-validator';
import { HashRunStatus, HashRunTrigger } from '@app/adapters';
import { CancelOutcome, type HashRunCounts } from '@app/core';
import { ApiInteger, ApiUuid } from '../common/api-docs.js';
import { ImportFailureDto } from '../imports/imports.dto.js';
import { JobTimesDto } from '../common/list-page.dto.js';

export class HashRunIdParamDto {
  @IsUUID()
  id: string;
}

export class HashRunCountsDto implements HashRunCounts {
  /** Files without a computed hash when the run started. */
  @ApiInteger({ minimum: 0 })
  total: number;
  /** Files hashed and written. */
  @ApiInteger({ minimum: 0 })
  hashed: number;
  /** Files that could not be read or hashed (listed in `failures`). */
  @ApiInteger({ minimum: 0 })
  failed: number;
  /** Hashed files whose sidecars claimed another SHA-256: the file wins and the adapter carries a warning. */
  @ApiInteger({ minimum: 0 })
  mismatched: number;
  /** Files that changed, vanished or were re-read while the run went on (the next import reads them). */
  @ApiInteger({ minimum: 0 })
  skipped: number;
  /** Bytes read. */
  @ApiInteger({ minimum: 0 })
  bytes: number;
}

export class HashRunDto extends JobTimesDto {
  @ApiUuid()
  id: string;
  status: HashRunStatus;
  /** Who started it: an import that left files unhashed, the API or the CLI. */
  trigger: HashRunTrigger;
  counts: HashRunCountsDto;
  /** The first failures (up to 1,000): path relative to its library root, and the reason. */
  failures: ImportFailureDto[];
  error: string | null;
}

export class HashRunStartedDto {
  run: HashRunDto;
  /** False when a run was already queued or running: that one is returned. */
  created: boolean;
}

export class HashRunCancelDto {
  run: HashRunDto;
  outcome: CancelOutcome;
}

export class HashStatusDto {
  /** Present adapters. */
  @ApiInteger({ minimum: 0 })
  adapters: number;
  /** Present adapters whose SHA-256 was computed from their file (not a sidecar's claim). */
  @ApiInteger({ minimum: 0 })
  verified: number;
  /** Present adapters still without a computed hash. */
  @ApiInteger({ minimum: 0 })
  unverified: number;
  /** The run queued or running, if any (`GET /hashes/runs/:id`). */
  @ApiUuid({ nullable: true })
  activeRunId: string | null;
  /** The newest run that has ended, if any. */
  @ApiUuid({ nullable: true })
  lastRunId: string | null;
  /** How the newest ended run ended (`completed`, `failed`, `cancelled`), if any. */
  lastRunStatus: string | null;
}
