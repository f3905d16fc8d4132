import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, MetricsService, errorMessage } from '@app/core';
import {
  type CivitaiAnswer,
  CivitaiError,
  CivitaiFailure,
  type CivitaiJson,
  type CivitaiModelPage,
  CivitaiPort,
  type CivitaiSearch,
} from './civitai.port.js';
import { TokenBucket } from './token-bucket.js';

/** Answers kept per process, by request path (by hash, by version id, by model id). */
const CACHE_ENTRIES = 2000;
const FIRST_BACKOFF_MS = 250;

type Endpoint = 'by_hash' | 'version' | 'model' | 'models' | 'images';

interface Cached {
  value: CivitaiJson | null;
  fetchedAt: Date;
}

const isObject = (v: unknown): v is CivitaiJson => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Civitai over HTTP: one token bucket per process (`CIVITAI_RATE_PER_SECOND`, burst `CIVITAI_RATE_BURST`), a 429's
 * `Retry-After` holding every caller, retries with doubling backoff on 5xx, connection errors and timeouts, a time
 * limit per request, a cap on the answer's size read as it streams, and answers cached by path with their age.
 * The API key goes in the `Authorization` header only: never in a URL, a log line or an error.
 */
@Injectable()
export class CivitaiHttpClient extends CivitaiPort {
  private readonly logger = new Logger(CivitaiHttpClient.name);
  private readonly bucket: TokenBucket;
  private readonly cache = new Map<string, Cached>();
  private readonly settings: AppConfig['civitai'];

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    super();
    this.settings = config.civitai;
    this.bucket = new TokenBucket(this.settings.ratePerSecond, this.settings.burst);
  }

  versionByHash(hash: string, signal?: AbortSignal): Promise<CivitaiAnswer<CivitaiJson>> {
    return this.cachedGet(
      'by_hash',
      `/api/v1/model-versions/by-hash/${encodeURIComponent(hash.toUpperCase())}`,
      signal,
    );
  }

  version(id: number, signal?: AbortSignal): Promise<CivitaiAnswer<CivitaiJson>> {
    return this.cachedGet('version', `/api/v1/model-versions/${id}`, signal);
  }

  model(id: number, signal?: AbortSignal): Promise<CivitaiAnswer<CivitaiJson>> {
    return this.cachedGet('model', `/api/v1/models/${id}`, signal);
  }

  async searchModels(search: CivitaiSearch, signal?: AbortSignal): Promise<CivitaiModelPage> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(search)) if (value !== undefined) params.set(key, String(value));
    const body = await this.request('models', `/api/v1/models?${params.toString()}`, signal);
    if (!isObject(body) || !Array.isArray(body.items)) throw badResponse('models', 'no items list');
    const metadata = isObject(body.metadata) ? body.metadata : {};
    const next = metadata.nextCursor;
    return {
      items: body.items.filter(isObject),
      nextCursor: typeof next === 'string' || typeof next === 'number' ? String(next) : null,
    };
  }

  async images(versionId: number, limit: number, signal?: AbortSignal): Promise<CivitaiJson[]> {
    const body = await this.request('images', `/api/v1/images?modelVersionId=${versionId}&limit=${limit}`, signal);
    if (!isObject(body) || !Array.isArray(body.items)) throw badResponse('images', 'no items list');
    return body.items.filter(isObject);
  }

  private async cachedGet(endpoint: Endpoint, path: string, signal?: AbortSignal): Promise<CivitaiAnswer<CivitaiJson>> {
    const hit = this.cache.get(path);
    if (hit && Date.now() - hit.fetchedAt.getTime() < this.settings.cacheMs) {
      this.metrics.civitaiCache.inc({ outcome: 'hit' });
      return { value: hit.value, fetchedAt: hit.fetchedAt, cached: true };
    }
    this.metrics.civitaiCache.inc({ outcome: 'miss' });
    const body = await this.request(endpoint, path, signal, true);
    if (body !== null && !isObject(body)) throw badResponse(endpoint, 'not a JSON object');
    const fetchedAt = new Date();
    if (this.settings.cacheMs > 0) {
      this.cache.delete(path);
      if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(path, { value: body, fetchedAt });
    }
    return { value: body, fetchedAt, cached: false };
  }

  /** One call with its retries; null for a 404 when `notFoundIsNull`. */
  private async request(
    endpoint: Endpoint,
    path: string,
    signal: AbortSignal | undefined,
    notFoundIsNull = false,
  ): Promise<unknown> {
    let lastFailure: CivitaiError | null = null;
    let rateLimited = 0;
    for (let attempt = 1; attempt <= this.settings.attempts;) {
      const waited = await this.bucket.take(signal);
      if (waited > 0) this.metrics.civitaiRateLimitWait.inc({ reason: 'bucket' }, waited / 1000);
      const outcome = await this.once(endpoint, path, signal);
      if (outcome.kind === 'ok') return outcome.body;
      if (outcome.kind === 'not_found') {
        if (notFoundIsNull) return null;
        throw badResponse(endpoint, 'not found (404)');
      }
      if (outcome.kind === 'final') throw outcome.error;
      if (outcome.kind === 'rate_limited') {
        // A 429 is Civitai asking to slow down, not a failure of this call: it does not use up a retry, but a storm
        // longer than the retries allow, or a Retry-After beyond the limit, fails the call.
        rateLimited++;
        if (outcome.retryAfterMs > this.settings.maxRetryAfterMs || rateLimited > this.settings.attempts * 3) {
          throw new CivitaiError(
            CivitaiFailure.RateLimited,
            `Civitai rate-limited ${endpoint} (429, Retry-After ${Math.round(outcome.retryAfterMs / 1000)} s); try again later`,
          );
        }
        this.bucket.pause(outcome.retryAfterMs);
        this.metrics.civitaiRateLimitWait.inc({ reason: 'retry_after' }, outcome.retryAfterMs / 1000);
        continue;
      }
      lastFailure = outcome.error;
      attempt++;
      if (attempt <= this.settings.attempts) {
        await sleep(FIRST_BACKOFF_MS * 2 ** (attempt - 2), undefined, { signal });
      }
    }
    throw lastFailure ?? new CivitaiError(CivitaiFailure.Unavailable, `Civitai ${endpoint} failed`);
  }

  private async once(
    endpoint: Endpoint,
    path: string,
    outer: AbortSignal | undefined,
  ): Promise<
    | { kind: 'ok'; body: unknown }
    | { kind: 'not_found' }
    | { kind: 'rate_limited'; retryAfterMs: number }
    | { kind: 'retry'; error: CivitaiError }
    | { kind: 'final'; error: CivitaiError }
  > {
    const timeout = AbortSignal.timeout(this.settings.timeoutMs);
    const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.settings.apiKey) headers.authorization = `Bearer ${this.settings.apiKey}`;
    let status = 'connection_error';
    try {
      const res = await fetch(`${this.settings.url}${path}`, { headers, signal, redirect: 'error' });
      status = String(res.status);
      if (res.status === 429) {
        await res.body?.cancel();
        return { kind: 'rate_limited', retryAfterMs: retryAfterMs(res.headers.get('retry-after')) };
      }
      if (res.status >= 500) {
        await res.body?.cancel();
        return {
          kind: 'retry',
          error: new CivitaiError(CivitaiFailure.Unavailable, `Civitai ${endpoint} answered ${res.status}`),
        };
      }
      if (res.status === 404) {
        await res.body?.cancel();
        return { kind: 'not_found' };
      }
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        return {
          kind: 'final',
          error: new CivitaiError(
            CivitaiFailure.NeedsKey,
            `Civitai ${endpoint} answered ${res.status}: needs CIVITAI_API_KEY${this.settings.apiKey ? ' (the configured key was refused)' : ''}`,
          ),
        };
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        return { kind: 'final', error: badResponse(endpoint, `status ${res.status}`) };
      }
      const text = await readCapped(res, this.settings.maxResponseBytes);
      if (text === null) {
        status = 'too_large';
        return {
          kind: 'final',
          error: new CivitaiError(
            CivitaiFailure.TooLarge,
            `Civitai ${endpoint} answer is larger than ${Math.round(this.settings.maxResponseBytes / 1048576)} MiB (CIVITAI_MAX_RESPONSE_MB)`,
          ),
        };
      }
      try {
        return { kind: 'ok', body: JSON.parse(text) as unknown };
      } catch {
        status = 'malformed';
        return { kind: 'final', error: badResponse(endpoint, 'malformed JSON') };
      }
    } catch (error) {
      outer?.throwIfAborted();
      if (timeout.aborted) {
        status = 'timeout';
        return {
          kind: 'retry',
          error: new CivitaiError(
            CivitaiFailure.Timeout,
            `Civitai ${endpoint} did not answer within ${this.settings.timeoutMs / 1000} s`,
          ),
        };
      }
      this.logger.debug(`Civitai ${endpoint}: ${errorMessage(error)}`);
      return {
        kind: 'retry',
        error: new CivitaiError(CivitaiFailure.Unavailable, `Civitai ${endpoint} unreachable: ${causeOf(error)}`),
      };
    } finally {
      this.metrics.civitaiRequests.inc({ endpoint, status });
    }
  }
}

function badResponse(endpoint: string, why: string): CivitaiError {
  return new CivitaiError(CivitaiFailure.BadResponse, `Civitai ${endpoint} answered something unusable: ${why}`);
}

/** `Retry-After` in seconds or as an HTTP date; 1 s when absent or unreadable. */
export function retryAfterMs(header: string | null): number {
  if (!header) return 1000;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? 1000 : Math.max(0, date - Date.now());
}

/** The body as text, or null once it passes `cap` bytes (the rest is not read). */
async function readCapped(res: Response, cap: number): Promise<string | null> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > cap) {
    await res.body?.cancel();
    return null;
  }
  if (!res.body) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  const stream = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > cap) {
      stream.destroy();
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? errorMessage(error);
}
