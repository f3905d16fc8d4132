import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { CivitaiError, CivitaiFailure, CivitaiHttpClient } from '@app/adapters';
import { MetricsService, parseConfig } from '@app/core';
import { FakeCivitai } from './support/fake-civitai.js';

const SHA = 'a1'.repeat(32);
const KEY = 'civitai-secret-key-123';

const fake = new FakeCivitai();
const metrics = new MetricsService();

/** A client of the fake with these settings on top of the defaults. */
const client = (env: Record<string, string> = {}) =>
  new CivitaiHttpClient(parseConfig({ CIVITAI_URL: fake.url, ...env }), metrics);

const failureOf = async (call: Promise<unknown>): Promise<{ failure: string; message: string }> => {
  try {
    await call;
  } catch (error) {
    if (error instanceof CivitaiError) return { failure: error.failure, message: error.message };
    throw error;
  }
  throw new Error('the call did not fail');
};

beforeAll(async () => {
  await fake.start();
  fake.addModel({
    id: 100,
    name: 'Watercolor Style',
    creator: 'painter',
    tags: ['style'],
    versions: [
      {
        id: 1002,
        name: 'v2.0',
        files: [{ name: 'watercolor_v2.safetensors', primary: true, sha256: 'b2'.repeat(32) }],
      },
      { id: 1001, name: 'v1.0', files: [{ name: 'watercolor_v1.safetensors', primary: true, sha256: SHA }] },
    ],
  });
  for (let i = 1; i <= 4; i++) fake.addModel({ id: 200 + i, name: `Pixel ${i}`, versions: [] });
});

afterAll(() => fake.stop());

beforeEach(() => {
  for (const e of ['by_hash', 'version', 'model', 'models', 'images'] as const) fake.fault(e, null);
  fake.requests.length = 0;
});

describe(CivitaiHttpClient.name, () => {
  it('should find a version by any case of its SHA-256, then answer from the cache with the answer’s age', async () => {
    const c = client({ CIVITAI_API_KEY: KEY });
    const first = await c.versionByHash(SHA);
    expect(first).toMatchObject({ cached: false, value: { id: 1001, modelId: 100, name: 'v1.0' } });
    const again = await c.versionByHash(SHA.toUpperCase());
    expect(again).toMatchObject({ cached: true, value: { id: 1001 } });
    expect(again.fetchedAt).toEqual(first.fetchedAt);
    expect(fake.count('by_hash')).toBe(1);
    // The key travels in the Authorization header, never in the URL.
    expect(fake.requests[0]).toMatchObject({ authorization: `Bearer ${KEY}` });
    expect(fake.requests[0].path).not.toContain(KEY);
    expect((await c.version(1002)).value).toMatchObject({ id: 1002, name: 'v2.0' });
    const model = await c.model(100);
    expect((model.value?.modelVersions as { id: number }[]).map((v) => v.id)).toEqual([1002, 1001]);
  });

  it('should answer null for an unknown hash (404), and cache that too', async () => {
    const c = client();
    expect((await c.versionByHash('ff'.repeat(32))).value).toBeNull();
    expect((await c.versionByHash('ff'.repeat(32))).cached).toBe(true);
    expect((await c.model(999)).value).toBeNull();
  });

  it('should page through a model search with the cursor', async () => {
    const c = client();
    const names: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await c.searchModels({ query: 'pixel', limit: 3, cursor });
      names.push(...page.items.map((m) => m.name as string));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect({ pages, names }).toEqual({ pages: 2, names: ['Pixel 1', 'Pixel 2', 'Pixel 3', 'Pixel 4'] });
  });

  it('should wait out a 429 storm for as long as Retry-After says, then succeed', async () => {
    fake.fault('version', { kind: 'rate_limit', retryAfter: '1', times: 2 });
    const c = client();
    const started = Date.now();
    expect((await c.version(1001)).value).toMatchObject({ id: 1001 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(fake.count('version')).toBe(3);
  });

  it('should fail at once when Retry-After is beyond CIVITAI_MAX_RETRY_AFTER_SECONDS', async () => {
    fake.fault('version', { kind: 'rate_limit', retryAfter: '3600' });
    const started = Date.now();
    expect(await failureOf(client({ CIVITAI_MAX_RETRY_AFTER_SECONDS: '30' }).version(1001))).toMatchObject({
      failure: CivitaiFailure.RateLimited,
      message: expect.stringContaining('Retry-After 3600 s'),
    });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('should retry a 5xx burst with backoff, and give up after CIVITAI_RETRIES', async () => {
    fake.fault('version', { kind: 'status', status: 503, times: 2 });
    expect((await client().version(1002)).value).toMatchObject({ id: 1002 });
    expect(fake.count('version')).toBe(3);
    fake.fault('version', { kind: 'status', status: 500 });
    expect(await failureOf(client().version(1001))).toMatchObject({
      failure: CivitaiFailure.Unavailable,
      message: 'Civitai version answered 500',
    });
    expect(fake.count('version')).toBe(6);
  });

  it('should time out a server that accepts and never answers', async () => {
    fake.fault('by_hash', { kind: 'hang' });
    const started = Date.now();
    const c = client({ CIVITAI_TIMEOUT_SECONDS: '0.3', CIVITAI_RETRIES: '2' });
    expect(await failureOf(c.versionByHash(SHA))).toMatchObject({ failure: CivitaiFailure.Timeout });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(fake.count('by_hash')).toBe(2);
  });

  it('should refuse malformed JSON and an oversized answer without retrying or caching them', async () => {
    fake.fault('model', { kind: 'malformed', times: 1 });
    const c = client({ CIVITAI_MAX_RESPONSE_MB: '1' });
    expect(await failureOf(c.model(100))).toMatchObject({ failure: CivitaiFailure.BadResponse });
    fake.fault('model', { kind: 'oversized', bytes: 3 * 1024 * 1024, times: 1 });
    expect(await failureOf(c.model(100))).toMatchObject({ failure: CivitaiFailure.TooLarge });
    expect(fake.count('model')).toBe(2);
    // Nothing bad was cached: the next call asks again and gets the real answer.
    expect((await c.model(100)).value).toMatchObject({ id: 100 });
  });

  it('should say that a 401 needs CIVITAI_API_KEY', async () => {
    fake.fault('version', { kind: 'status', status: 401 });
    expect(await failureOf(client().version(1001))).toMatchObject({
      failure: CivitaiFailure.NeedsKey,
      message: 'Civitai version answered 401: needs CIVITAI_API_KEY',
    });
  });

  it('should keep to the token bucket, and count requests and waits in the metrics', async () => {
    // 5 a second with a burst of 1: 11 lookups take at least 2 s.
    const c = client({ CIVITAI_RATE_PER_SECOND: '5', CIVITAI_RATE_BURST: '1', CIVITAI_CACHE_HOURS: '0' });
    const started = Date.now();
    await Promise.all(Array.from({ length: 11 }, () => c.versionByHash(SHA)));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    const text = await metrics.render();
    expect(text).toMatch(/civitai_requests_total\{endpoint="by_hash",status="200"\} \d+/);
    expect(text).toMatch(/civitai_requests_total\{endpoint="version",status="429"\} [1-9]/);
    expect(text).toMatch(/civitai_rate_limit_wait_seconds_total\{reason="bucket"\} [0-9.]*[1-9]/);
    expect(text).toMatch(/civitai_rate_limit_wait_seconds_total\{reason="retry_after"\} [1-9]/);
  });
});
