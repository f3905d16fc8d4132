import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ThumbnailService } from '../libs/core/src/media/thumbnail.service.js';
import { readPngInfotext } from '../libs/results/src/image-facts.js';
import { resultThumbnailIdentity } from '../libs/results/src/results.service.js';
import { openSeedDb, seedAdapters } from './support/adapter-seed.js';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { FakeSdNext } from './support/fake-sdnext.js';
import { ProgressClient } from './support/progress-client.js';
import { createRedisPrefix, createTestDatabase, REDIS_URL, tempDir, waitFor } from './support/test-services.js';

const VIEWER = 'viewer-key-results-0001';
const EDITOR = 'editor-key-results-0001';
const KEYS = `${VIEWER}:viewer,${EDITOR}:editor`;
const ALPHA_SHA = 'a1'.repeat(32);
const BETA_SHA = 'b2'.repeat(32);

interface Result {
  id: string;
  jobId: string;
  imageIndex: number;
  format: string;
  contentType: string;
  width: number | null;
  height: number | null;
  bytes: number;
  seed: number | null;
  prompt: string;
  negativePrompt: string | null;
  loras: { adapterId: string | null; name: string; weight: number; sha256: string | null; autov2: string | null }[];
  backendId: string;
  durationMs: number | null;
  rating: number;
  favorite: boolean;
  tags: string[];
  notes: string | null;
  storageKey: string;
  url: string;
  request: Record<string, unknown>;
}

interface Stack {
  api: AppProcess;
  databaseUrl: string;
  storageDir: string;
  stop(): Promise<void>;
}

function resultsSuite(label: string, startStack: (sdnextUrl: string) => Promise<Stack>): void {
  describe(`results (${label})`, () => {
    const fake = new FakeSdNext({ flavour: 'sdnext', stepMs: 2, imageFormat: 'png' });
    let stack: Stack;
    let base: string;
    let events: ProgressClient;
    const adapters: Record<'alpha' | 'beta', string> = { alpha: '', beta: '' };
    let firstJob = '';

    const call = async (method: string, path: string, body?: unknown, key = EDITOR) => {
      const res = await fetch(`${base}/api/v1${path}`, {
        method,
        headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    };
    const list = async (query: string): Promise<Result[]> => {
      const res = await call('GET', `/results?${query}`, undefined, VIEWER);
      expect(res.status).toBe(200);
      return res.body.items as Result[];
    };
    const settle = async (id: string): Promise<Record<string, unknown>> => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const job = await call('GET', `/generation/jobs/${id}`, undefined, VIEWER);
        if (['succeeded', 'failed', 'cancelled'].includes(job.body.status as string)) return job.body;
        if (Date.now() > deadline) throw new Error(`job ${id} still ${String(job.body.status)}`);
        await new Promise((r) => setTimeout(r, 30));
      }
    };

    beforeAll(async () => {
      const url = await fake.start();
      stack = await startStack(url);
      base = stack.api.baseUrl;
      const db = await openSeedDb(stack.databaseUrl);
      try {
        [adapters.alpha, adapters.beta] = await seedAdapters(db, [
          {
            rootId: 'root00000001',
            relativePath: 'alpha.safetensors',
            name: 'Alpha',
            baseModel: 'SDXL 1.0',
            sha256: ALPHA_SHA,
          },
          {
            rootId: 'root00000001',
            relativePath: 'styles/beta.safetensors',
            name: 'Beta',
            baseModel: 'SD 1.5',
            sha256: BETA_SHA,
          },
        ]);
        const p = (i: number) => (db.pg ? `$${i}` : '?');
        for (const [id, stem] of [
          [adapters.alpha, 'alpha'],
          [adapters.beta, 'beta'],
        ]) {
          await db.exec(`UPDATE adapters SET lora_stem = ${p(1)}, lora_name = ${p(2)} WHERE id = ${p(3)}`, [
            stem,
            stem,
            id,
          ]);
        }
      } finally {
        await db.close();
      }
      events = new ProgressClient(base, VIEWER);
      await events.connected();
      expect((await events.subscribe({ topic: 'results' })).ok).toBe(true);
    });

    afterAll(async () => {
      events?.close();
      await stack?.stop();
      await fake.stop();
    });

    it('should record a queued generation as one result per image with the LoRAs used', async () => {
      const queued = await call('POST', '/generation/queue-generation', {
        prompt: 'a red fox <lora:alpha:0.8> <lora:beta:0.5> <lora:nowhere:1>',
        negative_prompt: 'blurry',
        steps: 3,
        seed: 1234,
        batch_size: 2,
        sampler_name: 'Euler a',
        cfg_scale: 6.5,
      });
      expect(queued.status).toBe(201);
      firstJob = queued.body.id as string;
      expect((await settle(firstJob)).status).toBe('succeeded');
      const rows = (await list(`limit=10`)).filter((r) => r.jobId === firstJob);
      expect(rows.map((r) => r.imageIndex).sort()).toEqual([0, 1]);
      const first = rows.find((r) => r.imageIndex === 0)!;
      expect(first).toMatchObject({
        format: 'png',
        contentType: 'image/png',
        width: 8,
        height: 8,
        seed: 1234,
        prompt: 'a red fox <lora:alpha:0.8> <lora:beta:0.5> <lora:nowhere:1>',
        negativePrompt: 'blurry',
        backendId: 'sdnext-0',
        rating: 0,
        favorite: false,
        tags: [],
      });
      expect(first.bytes).toBeGreaterThan(0);
      expect(first.durationMs).toBeGreaterThanOrEqual(0);
      expect(first.loras).toEqual([
        {
          adapterId: adapters.alpha,
          name: 'alpha',
          weight: 0.8,
          sha256: ALPHA_SHA,
          autov2: ALPHA_SHA.slice(0, 10),
          baseModel: 'SDXL 1.0',
        },
        {
          adapterId: adapters.beta,
          name: 'beta',
          weight: 0.5,
          sha256: BETA_SHA,
          autov2: BETA_SHA.slice(0, 10),
          baseModel: 'SD 1.5',
        },
        { adapterId: null, name: 'nowhere', weight: 1, sha256: null, autov2: null, baseModel: null },
      ]);
      const created = await events.waitFor(
        (e) => e.event === 'result.created' && (e.payload as { resultId: string }).resultId === first.id,
      );
      expect(created.payload).toMatchObject({
        jobId: firstJob,
        imageIndex: 0,
        url: `/api/v1/results/${first.id}/image`,
      });
    });

    it('should serve the original PNG with an A1111 infotext chunk that reads back', async () => {
      const [row] = (await list('limit=10')).filter((r) => r.jobId === firstJob && r.imageIndex === 0);
      const res = await fetch(`${base}${row.url}`, { headers: { 'x-api-key': VIEWER } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(bytes.length).toBe(row.bytes);
      const infotext = readPngInfotext(bytes);
      expect(infotext).not.toBeNull();
      const lines = infotext!.split('\n');
      expect(lines[0]).toBe('a red fox <lora:alpha:0.8> <lora:beta:0.5> <lora:nowhere:1>');
      expect(lines[1]).toBe('Negative prompt: blurry');
      expect(lines[2]).toContain('Steps: 3, Sampler: Euler a, CFG scale: 6.5, Seed: 1234, Size: 8x8');
      expect(lines[2]).toContain(`Lora hashes: "alpha: ${ALPHA_SHA.slice(0, 10)}, beta: ${BETA_SHA.slice(0, 10)}"`);
      // The job's own image route serves the same stored file.
      const viaJob = await fetch(`${base}/api/v1/generation/jobs/${firstJob}/images/0`, {
        headers: { 'x-api-key': VIEWER },
      });
      expect(Buffer.from(await viaJob.arrayBuffer()).equals(bytes)).toBe(true);
    });

    it('should record a synchronous generation too, and filter by adapter, base model, text, backend and date', async () => {
      const sync = await call('POST', '/generation/generate', { prompt: 'a grey cat', steps: 2, seed: 77 });
      expect(sync.status).toBe(200);
      const all = await list('limit=50');
      expect(all).toHaveLength(3);
      expect((await list(`adapterId=${adapters.alpha}`)).map((r) => r.jobId)).toEqual([firstJob, firstJob]);
      expect(await list(`baseModel=${encodeURIComponent('SD 1.5')}`)).toHaveLength(2);
      expect((await list('q=GREY')).map((r) => r.prompt)).toEqual(['a grey cat']);
      expect(await list('q=blurry')).toHaveLength(2);
      expect(await list('backendId=sdnext-0')).toHaveLength(3);
      expect(await list('backendId=sdnext-9')).toHaveLength(0);
      expect(await list(`from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toHaveLength(0);
      expect(await list(`to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).toHaveLength(3);
      // Newest first by default.
      expect(all[0].prompt).toBe('a grey cat');
    });

    it('should page by cursor through every result exactly once', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await call('GET', `/results?limit=1${cursor ? `&cursor=${cursor}` : ''}`, undefined, VIEWER);
        expect(res.status).toBe(200);
        seen.push(...(res.body.items as Result[]).map((r) => r.id));
        cursor = res.body.nextCursor as string | null;
      } while (cursor);
      expect(seen).toHaveLength(3);
      expect(new Set(seen).size).toBe(3);
      const asc = await list('order=asc&limit=50');
      expect(asc.map((r) => r.id)).toEqual([...seen].reverse());
    });

    it('should keep rating, favorite, tags and notes, and filter by them', async () => {
      const [cat] = await list('q=cat');
      const patched = await call('PATCH', `/results/${cat.id}`, {
        rating: 4,
        favorite: true,
        tags: [' Keeper ', 'cats', 'keeper'],
        notes: 'nice fur',
      });
      expect(patched.status).toBe(200);
      const again = await call('GET', `/results/${cat.id}`, undefined, VIEWER);
      expect(again.body).toMatchObject({ rating: 4, favorite: true, tags: ['keeper', 'cats'], notes: 'nice fur' });
      expect((await list('minRating=4')).map((r) => r.id)).toEqual([cat.id]);
      expect((await list('favorite=true')).map((r) => r.id)).toEqual([cat.id]);
      expect(await list('favorite=false')).toHaveLength(2);
      expect((await list('sort=rating&limit=1'))[0].id).toBe(cat.id);
      // A viewer reads but may not write.
      expect((await call('PATCH', `/results/${cat.id}`, { rating: 1 }, VIEWER)).status).toBe(403);
    });

    it('should turn a result into a generation request that generates the same image settings', async () => {
      const [row] = (await list('limit=10')).filter((r) => r.jobId === firstJob && r.imageIndex === 1);
      const reuse = await call('GET', `/results/${row.id}/reuse`, undefined, VIEWER);
      expect(reuse.status).toBe(200);
      const request = reuse.body.request as Record<string, unknown>;
      expect(request).toMatchObject({
        prompt: row.prompt,
        negative_prompt: 'blurry',
        steps: 3,
        cfg_scale: 6.5,
        sampler_name: 'Euler a',
        seed: row.seed,
        batch_size: 1,
        n_iter: 1,
      });
      expect((reuse.body.loras as { adapterId: string | null }[]).map((l) => l.adapterId)).toEqual([
        adapters.alpha,
        adapters.beta,
        null,
      ]);
      const random = await call('GET', `/results/${row.id}/reuse?keepSeed=false`, undefined, VIEWER);
      expect((random.body.request as { seed: number }).seed).toBe(-1);
      const again = await call('POST', '/generation/queue-generation', request);
      expect(again.status).toBe(201);
      expect((await settle(again.body.id as string)).status).toBe('succeeded');
      const made = (await list('limit=50')).filter((r) => r.jobId === again.body.id);
      expect(made).toHaveLength(1);
      expect(made[0].seed).toBe(row.seed);
      expect(made[0].loras.map((l) => l.adapterId)).toEqual([adapters.alpha, adapters.beta, null]);
    });

    it('should favorite and tag in bulk, and report ids that name no result', async () => {
      const ids = (await list('limit=50')).map((r) => r.id);
      const missing = '00000000-0000-4000-8000-000000000000';
      const fav = await call('POST', '/results/bulk-favorite', { ids: [...ids, missing], favorite: true });
      expect(fav.status).toBe(200);
      expect(fav.body.missing).toEqual([missing]);
      expect(await list('favorite=true')).toHaveLength(ids.length);
      const tag = await call('POST', '/results/bulk-tag', { ids, add: ['batch'], remove: ['cats'] });
      expect(tag.status).toBe(200);
      for (const r of await list('limit=50')) {
        expect(r.tags).toContain('batch');
        expect(r.tags).not.toContain('cats');
      }
    });

    it('should delete one result with its file and thumbnails, then others in bulk', async () => {
      const rows = await list('limit=50');
      const thumbnailsOf = (row: { id: string; storageKey: string; bytes: number }) =>
        ThumbnailService.keysOf(resultThumbnailIdentity(row)).map((key) => join(stack.storageDir, key));
      // The grid's card is made when each result is saved, in the background (nothing has asked for it yet); the
      // large preview only once someone opens it.
      for (const row of rows) {
        await waitFor(`256 px thumbnail of result ${row.id}`, () => existsSync(thumbnailsOf(row)[0]));
      }
      expect(rows.map((row) => existsSync(thumbnailsOf(row)[1]))).toEqual(rows.map(() => false));
      const one = rows[0];
      const large = await fetch(`${base}/api/v1/results/${one.id}/thumbnail?size=768`, {
        headers: { 'x-api-key': VIEWER },
      });
      expect(large.status).toBe(200);
      expect(large.headers.get('content-type')).toBe('image/webp');
      expect(thumbnailsOf(one).map((path) => existsSync(path))).toEqual([true, true]);
      const file = join(stack.storageDir, one.storageKey);
      expect(existsSync(file)).toBe(true);
      const deleted = await call('DELETE', `/results/${one.id}`);
      expect(deleted.status).toBe(204);
      expect(existsSync(file)).toBe(false);
      expect(thumbnailsOf(one).filter((path) => existsSync(path))).toEqual([]);
      expect((await call('GET', `/results/${one.id}`, undefined, VIEWER)).status).toBe(404);
      expect((await call('DELETE', `/results/${one.id}`)).status).toBe(404);
      await events.waitFor(
        (e) => e.event === 'result.deleted' && (e.payload as { resultId: string }).resultId === one.id,
      );
      const rest = rows.slice(1).map((r) => r.id);
      const bulk = await call('POST', '/results/bulk-delete', { ids: rest });
      expect(bulk.status).toBe(200);
      expect((bulk.body.done as string[]).sort()).toEqual([...rest].sort());
      expect(await list('limit=50')).toHaveLength(0);
      for (const r of rows) expect(existsSync(join(stack.storageDir, r.storageKey))).toBe(false);
      expect(rows.flatMap(thumbnailsOf).filter((path) => existsSync(path))).toEqual([]);
    });

    it('should answer bad input with 400 naming the field', async () => {
      const some = '00000000-0000-4000-8000-000000000000';
      const cases: [string, string, unknown, string][] = [
        ['PATCH', `/results/${some}`, { rating: 7 }, 'rating'],
        ['PATCH', `/results/${some}`, { tags: 'x' }, 'tags'],
        ['PATCH', `/results/${some}`, { favorite: 'yes' }, 'favorite'],
        ['POST', '/results/bulk-delete', { ids: [] }, 'ids'],
        ['POST', '/results/bulk-delete', { ids: ['nope'] }, 'ids'],
        ['POST', '/results/bulk-favorite', { ids: [some] }, 'favorite'],
        ['GET', '/results?minRating=9', undefined, 'minRating'],
        ['GET', '/results?limit=0', undefined, 'limit'],
        ['GET', '/results?sort=size', undefined, 'sort'],
        ['GET', '/results?from=yesterday', undefined, 'from'],
        ['GET', '/results?cursor=bm90LWEtY3Vyc29y', undefined, 'cursor'],
        ['GET', '/results/not-a-uuid', undefined, 'id'],
      ];
      for (const [method, path, body, field] of cases) {
        const res = await call(method, path, body);
        expect({ path, body, status: res.status }).toEqual({ path, body, status: 400 });
        expect(JSON.stringify(res.body.details)).toContain(field);
      }
      expect((await call('PATCH', `/results/${some}`, { rating: 2 })).status).toBe(404);
      expect((await call('GET', `/results/${some}/image`, undefined, VIEWER)).status).toBe(404);
    });

    it('should record compose-and-generate and SD.Next deliveries too, with the LoRAs the composition chose', async () => {
      const composed = await call('POST', '/generation/compose-and-generate', {
        compose: { adapters: [{ id: adapters.alpha, weight: 0.7 }], triggerWords: 'none', prefix: 'a knight' },
        generation: { steps: 2, seed: 5 },
        queued: false,
      });
      expect(composed.status).toBe(201);
      const composedJob = (composed.body.job as { id: string }).id;
      const [fromCompose] = (await list('limit=50')).filter((r) => r.jobId === composedJob);
      expect(fromCompose.loras).toEqual([expect.objectContaining({ adapterId: adapters.alpha, weight: 0.7 })]);

      const delivery = await call('POST', '/deliveries', {
        mode: 'sdnext',
        prompt: 'a fox by delivery',
        params: { steps: 2 },
      });
      expect(delivery.status).toBe(201);
      const deadline = Date.now() + 20_000;
      let generationJobId: string | null = null;
      while (!generationJobId && Date.now() < deadline) {
        const d = await call('GET', `/deliveries/${delivery.body.id as string}`, undefined, VIEWER);
        if (d.body.status === 'succeeded') generationJobId = d.body.generationJobId as string;
        else await new Promise((r) => setTimeout(r, 30));
      }
      expect(generationJobId).toEqual(expect.any(String));
      const fromDelivery = (await list('limit=50')).filter((r) => r.jobId === generationJobId);
      expect(fromDelivery.map((r) => r.prompt)).toEqual(['a fox by delivery']);
    });
  });
}

resultsSuite('SQLite, embedded', async (sdnextUrl) => {
  const dir = tempDir('results-embedded');
  const port = await freePort();
  const env = { DATA_DIR: dir.path, PORT: String(port), SDNEXT_URL: sdnextUrl, API_KEYS: KEYS };
  const api = new AppProcess('api', env, port).start();
  await api.waitReady();
  return {
    api,
    databaseUrl: `sqlite:${join(dir.path, 'lora-manager.sqlite')}`,
    storageDir: join(dir.path, 'storage'),
    stop: async () => {
      await api.stop();
      dir.remove();
    },
  };
});

resultsSuite('PostgreSQL, scale-out worker', async (sdnextUrl) => {
  const dir = tempDir('results-scale');
  const redis = createRedisPrefix('results');
  const db = await createTestDatabase('results');
  const env = {
    DATA_DIR: dir.path,
    DATABASE_URL: db.url,
    REDIS_URL,
    REDIS_PREFIX: redis.prefix,
    SDNEXT_URL: sdnextUrl,
    API_KEYS: KEYS,
  };
  expect((await runCli(['migrate'], env)).code).toBe(0);
  const workerPort = await freePort();
  const worker = new AppProcess('worker', { ...env, WORKER_PORT: String(workerPort) }, workerPort).start();
  const port = await freePort();
  const api = new AppProcess('api', { ...env, PORT: String(port) }, port).start();
  await Promise.all([api.waitReady(), worker.waitReady()]);
  return {
    api,
    databaseUrl: db.url,
    storageDir: join(dir.path, 'storage'),
    stop: async () => {
      await Promise.all([api.stop(), worker.stop()]);
      await redis.clear();
      await db.drop();
      dir.remove();
    },
  };
});
