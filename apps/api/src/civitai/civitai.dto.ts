import { ArrayMaxSize, ArrayMinSize, IsArray, IsUUID } from 'class-validator';
import { IsOptionalNonNull } from '../common/validation.js';
import type { CivitaiLookupResult } from '@app/adapters';
import { ApiDateTime, ApiInteger, ApiUuid } from '../common/api-docs.js';

export class CivitaiAdapterParamDto {
  @IsUUID()
  id: string;
}

export class CivitaiLookupDto implements Omit<CivitaiLookupResult, 'fetchedAt'> {
  @ApiUuid()
  adapterId: string;
  /** Civitai knows the file's SHA-256; false: the adapter is marked "not on Civitai" (`civitaiLookup: not_found`). */
  found: boolean;
  @ApiInteger({ minimum: 1, nullable: true })
  modelId: number | null;
  @ApiInteger({ minimum: 1, nullable: true })
  versionId: number | null;
  /** When Civitai gave this answer: earlier than now when it came from the cache (`CIVITAI_CACHE_HOURS`). */
  @ApiDateTime()
  fetchedAt: string;
  cached: boolean;
}

export class CivitaiStatusDto {
  /** `CIVITAI_URL`. */
  url: string;
  /** Whether `CIVITAI_API_KEY` is set (the key itself is never shown). */
  apiKeyConfigured: boolean;
  /** Token bucket: requests per second and burst. */
  ratePerSecond: number;
  @ApiInteger({ minimum: 1 })
  burst: number;
  /** Present linked adapters whose last update check found a newer version (`GET /adapters?hasUpdate=true`). */
  @ApiInteger({ minimum: 0 })
  updatesAvailable: number;
}

export class StartCivitaiLookupDto {
  /**
   * Adapters to look up (up to 1,000); when absent, every present hashed adapter without a Civitai version that was
   * not asked about within `CIVITAI_RECHECK_DAYS`.
   */
  @IsOptionalNonNull()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1000)
  @IsUUID('all', { each: true })
  adapterIds?: string[];
}
