import { DomainError, DomainErrorKind } from '@app/core';

/** A Civitai JSON object as it came (LORA-FORMATS §8.3/§8.4); readers narrow what they use. */
export type CivitaiJson = Record<string, unknown>;

export interface CivitaiAnswer<T> {
  /** Null when Civitai says it does not know the thing (404). */
  value: T | null;
  /** When Civitai gave this answer (now, or when the cached copy was fetched). */
  fetchedAt: Date;
  cached: boolean;
}

export interface CivitaiModelPage {
  items: CivitaiJson[];
  /** Pass back as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

export interface CivitaiSearch {
  query?: string;
  types?: string;
  baseModels?: string;
  limit?: number;
  cursor?: string;
}

/** Why a Civitai call failed; the API answers 502 (504 for a timeout), jobs record the message. */
export enum CivitaiFailure {
  RateLimited = 'civitai_rate_limited',
  Unavailable = 'civitai_unavailable',
  Timeout = 'civitai_timeout',
  BadResponse = 'civitai_bad_response',
  TooLarge = 'civitai_response_too_large',
  NeedsKey = 'civitai_needs_api_key',
}

export class CivitaiError extends DomainError {
  constructor(
    readonly failure: CivitaiFailure,
    message: string,
  ) {
    super(
      failure === CivitaiFailure.Timeout ? DomainErrorKind.UpstreamTimeout : DomainErrorKind.Upstream,
      failure,
      message,
    );
  }
}

/**
 * What the product asks of Civitai. The HTTP client implements it; nothing calls it unless a user asked (an API,
 * CLI or UI action) or `CIVITAI_AUTO_LOOKUP` is on.
 */
export abstract class CivitaiPort {
  /** `GET /api/v1/model-versions/by-hash/{hash}` (SHA256, AutoV2, AutoV3 …, any case). */
  abstract versionByHash(hash: string, signal?: AbortSignal): Promise<CivitaiAnswer<CivitaiJson>>;
  /** `GET /api/v1/model-versions/{id}`. */
  abstract version(id: number, signal?: AbortSignal): Promise<CivitaiAnswer<CivitaiJson>>;
  /** `GET /api/v1/models/{id}` with its `modelVersions`. */
  abstract model(id: number, signal?: AbortSignal): Promise<CivitaiAnswer<CivitaiJson>>;
  /** `GET /api/v1/models?query=…&cursor=…` (cursor paging). */
  abstract searchModels(search: CivitaiSearch, signal?: AbortSignal): Promise<CivitaiModelPage>;
  /** `GET /api/v1/images?modelVersionId=…` (one page). */
  abstract images(versionId: number, limit: number, signal?: AbortSignal): Promise<CivitaiJson[]>;
}
