import { IsUUID } from 'class-validator';
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
}
