import { IsIn, IsInt, IsString, IsUUID, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { Transform } from 'class-transformer';
import { CivitaiDownloadStatus, type CollisionPolicy } from '@app/adapters';
import { CancelOutcome } from '@app/core';
import { IsOptionalNonNull } from '../common/validation.js';
import { ApiDateTime, ApiInteger, ApiUuid } from '../common/api-docs.js';
import { JobTimesDto } from '../common/list-page.dto.js';
import { toInteger } from '../common/query-params.js';

export class StartDownloadDto {
  /**
   * What to download: a version id (`12345`), a Civitai model page (`https://civitai.com/models/123?modelVersionId=456`;
   * without a version, its newest), a download link (`…/api/download/models/456`) or an AIR.
   */
  @IsString()
  @MinLength(1)
  @MaxLength(2000)
  reference: string;
  /** A library root's id (`GET /library/roots`); the first root when absent. */
  @IsOptionalNonNull()
  @IsString()
  @Matches(/^[0-9a-f]{12}$/)
  rootId?: string;
  /** A folder relative to the root, created when missing; the root itself when absent. */
  @IsOptionalNonNull()
  @IsString()
  @MaxLength(1000)
  folder?: string;
  /** When a file of that name is already there: `fail` (409, the default) or `rename` (`name-1.safetensors`). */
  @IsOptionalNonNull()
  @IsIn(['fail', 'rename'])
  onCollision?: CollisionPolicy;
}

export class DownloadIdParamDto {
  @IsUUID()
  id: string;
}

export class DownloadDto extends JobTimesDto {
  @ApiUuid()
  id: string;
  status: CivitaiDownloadStatus;
  @ApiInteger({ minimum: 1, nullable: true })
  modelId: number | null;
  @ApiInteger({ minimum: 1 })
  versionId: number;
  rootId: string;
  /** The file's path relative to its root (it appears there only once verified). */
  relativePath: string;
  /** The SHA-256 Civitai declares; the file is kept only when its bytes have it. */
  expectedSha256: string;
  @ApiInteger({ minimum: 0 })
  bytesDone: number;
  @ApiInteger({ minimum: 0, nullable: true })
  bytesTotal: number | null;
  /** Bytes received over the network, every attempt together: less than the size after a resume. */
  @ApiInteger({ minimum: 0 })
  bytesFetched: number;
  /** The imported adapter, once completed. */
  @ApiUuid({ nullable: true })
  adapterId: string | null;
  /** Why it failed. */
  error: string | null;
}

export class DownloadCancelDto {
  download: DownloadDto;
  outcome: CancelOutcome;
}

export class ExamplesStartedDto {
  /** The `civitai-examples` job (`GET /jobs/civitai-examples/{id}`). */
  @ApiUuid()
  jobId: string;
}

export class ExampleImageDto {
  @ApiInteger({ minimum: 0 })
  id: number;
  /** Where the API serves it: `/api/v1/civitai/adapters/{id}/examples/{image}`. */
  url: string;
  contentType: string;
  @ApiInteger({ minimum: 0, nullable: true })
  width: number | null;
  @ApiInteger({ minimum: 0, nullable: true })
  height: number | null;
  /** Civitai's NSFW level (1 none, 2 soft, 4 mature, 8 X, 16 XXX). */
  @ApiInteger({ minimum: 0, nullable: true })
  nsfwLevel: number | null;
  /** Generation parameters as Civitai gives them (prompt, negativePrompt, sampler, seed …). */
  meta: Record<string, unknown> | null;
  sourceUrl: string;
}

export class ExampleImagesDto {
  @ApiUuid()
  adapterId: string;
  @ApiInteger({ minimum: 1, nullable: true })
  versionId: number | null;
  /** When they were fetched; null when never. */
  @ApiDateTime({ nullable: true })
  fetchedAt: string | null;
  images: ExampleImageDto[];
}

export class ExampleImageParamDto {
  @IsUUID()
  id: string;
  /** The Civitai image id (`images[].id` of the list). */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  image: number;
}

export class DownloadRootDto {
  /** Pass as `rootId` when starting a download. */
  rootId: string;
  /** The root folder's name (not its full path). */
  name: string;
}
