import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openSeedDb, seedAdapters, seedSpec, TOMBSTONED } from './support/adapter-seed.js';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { ProgressClient } from './support/progress-client.js';
import { createRedisPrefix, createTestDatabase, REDIS_URL, tempDir } from './support/test-services.js';

const VIEWER = 'viewer-key-recommend-01';
const EDITOR = 'editor-key-recommend-01';
const KEYS = `${VIEWER}:viewer,${EDITOR}:editor`;
/** Start-up on a busy machine can take a while. */
const BOOT_MS = 120_000;

interface Item {
  adapter: { id: string; name: string; baseModel: string };
  score: number;
  parts: { text: number; coUsage: number; feedback: number };
  compatible: boolean;
  matchedTerms: string[];
  coUsageCount: number;
  feedback: { useful: number; notUseful: number };
  reasons: string[];
}

interface Stack {
  /** Where requests go; in scale-out the second API instance answers what the first was told. */
  apis: AppProcess[];
  databaseUrl: string;
  stop(): Promise<void>;
}

const LIBRARY = {
  ink: seedSpec('ink', 'Ink Wash Style', ['style', 'ink', 'watercolor'], {
    triggerWords: ['ink wash'],
    creator: 'sumi',
  }),
  one: seedSpec('one', 'Ink One', ['style', 'ink', 'alpha']),
  two: seedSpec('two', 'Ink Two', ['style', 'ink', 'beta']),
  old: seedSpec('old', 'Ink Old', ['style', 'ink'], { baseModel: 'SD 1.5' }),
  robot: seedSpec('robot', 'Mecha Robot', ['robot', 'mecha'], { triggerWords: ['mecha armor'] }),
  neon: seedSpec('neon', 'Neon Lights', ['lighting']),
  ghost: seedSpec('ghost', 'Ink Ghost', ['style', 'ink', 'watercolor'], TOMBSTONED),
};
type Key = keyof typeof LIBRARY;

function recommendationsSuite(label: string, startStack: () => Promise<Stack>): void {
  describe(`recommendations (${label})`, () => {
    let stack: Stack;
    const ids = {} as Record<Key, string>;

    const call = async (method: string, path: string, body?: unknown, key = EDITOR, api = 0) => {
      const res = await fetch(`${stack.apis[api].baseUrl}/api/v1${path}`, {
        method,
        headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    };
    const last = () => stack.apis.length - 1;
    const similar = async (id: string, query = '', api = 0): Promise<Item[]> => {
      const res = await call('GET', `/recommendations/adapters/${id}/similar${query}`, undefined, VIEWER, api);
      expect(res.status).toBe(200);
      return res.body.items as Item[];
    };
    const forPrompt = async (body: Record<string, unknown>, api = 0): Promise<Item[]> => {
      const res = await call('POST', '/recommendations/for-prompt', body, VIEWER, api);
      expect(res.status).toBe(200);
      return res.body.items as Item[];
    };
    const names = (items: Item[]) => items.map((i) => i.adapter.name);

    beforeAll(async () => {
      stack = await startStack();
      const db = await openSeedDb(stack.databaseUrl);
      try {
        const keys = Object.keys(LIBRARY) as Key[];
        const seeded = await seedAdapters(
          db,
          keys.map((k) => LIBRARY[k]),
        );
        keys.forEach((k, i) => (ids[k] = seeded[i]));
        // Three images generated with Ink Wash Style and Neon Lights together.
        const p = (i: number) => (db.pg ? `$${i}` : '?');
        for (let n = 0; n < 3; n++) {
          const resultId = randomUUID();
          for (const adapterId of [ids.ink, ids.neon]) {
            await db.exec(
              `INSERT INTO generation_result_adapters (result_id, adapter_id, base_model) VALUES (${p(1)}, ${p(2)}, ${p(3)})`,
              [resultId, adapterId, 'SDXL 1.0'],
            );
          }
        }
      } finally {
        await db.close();
      }
    }, 300_000);

    afterAll(async () => {
      await stack?.stop();
    });

    it('should rank similar adapters with the parts of their score and the reasons', async () => {
      const items = await similar(ids.ink);
      expect(names(items)).toEqual(expect.arrayContaining(['Ink One', 'Ink Two', 'Neon Lights']));
      expect(names(items)).not.toContain('Ink Wash Style');
      expect(names(items)).not.toContain('Ink Ghost');
      expect(names(items)).not.toContain('Ink Old');
      expect(names(items)).not.toContain('Mecha Robot');
      const one = items.find((i) => i.adapter.name === 'Ink One')!;
      expect(one.parts.text).toBeGreaterThan(0);
      expect(one.matchedTerms).toEqual(expect.arrayContaining(['ink', 'style']));
      expect(one.reasons[0]).toMatch(/^Shares words: .*ink/);
      expect(one.compatible).toBe(true);
      const neon = items.find((i) => i.adapter.name === 'Neon Lights')!;
      expect(neon).toMatchObject({ coUsageCount: 3, parts: { text: 0, coUsage: 1 } });
      expect(neon.reasons).toContain('Used together: 3 images');
      for (const item of items) {
        expect(item.score).toBeCloseTo(
          0.55 * item.parts.text + 0.25 * item.parts.coUsage + 0.2 * item.parts.feedback,
          2,
        );
      }
      expect(items.map((i) => i.score)).toEqual([...items.map((i) => i.score)].sort((a, b) => b - a));
    });

    it('should count recipes, composed generations and composed deliveries as used together', async () => {
      const db = await openSeedDb(stack.databaseUrl);
      const p = (i: number) => (db.pg ? `$${i}` : '?');
      const now = db.pg ? new Date() : new Date().toISOString().replace('T', ' ').replace('Z', '');
      const pair = JSON.stringify([
        { adapterId: ids.robot, id: ids.robot, name: 'Mecha Robot', weight: 1 },
        { adapterId: ids.neon, id: ids.neon, name: 'Neon Lights', weight: 0.8 },
        { adapterId: null, id: null, name: 'not in the library', weight: 1 },
      ]);
      const [recipe, generation, delivery] = [randomUUID(), randomUUID(), randomUUID()];
      const robotUse = async () => (await similar(ids.robot)).find((i) => i.adapter.name === 'Neon Lights');
      try {
        await db.exec(
          `INSERT INTO recipes (id, name, tags, loras, prompt, parameters, source, created_at, updated_at)
           VALUES (${p(1)}, 'night mecha', '[]', ${p(2)}, 'a robot', '{}', 'manual', ${p(3)}, ${p(4)})`,
          [recipe, pair, now, now],
        );
        await db.exec(
          `INSERT INTO generation_jobs (id, status, mode, request, adapters_used, created_at, updated_at)
           VALUES (${p(1)}, 'failed', 'queued', '{}', ${p(2)}, ${p(3)}, ${p(4)})`,
          [generation, pair, now, now],
        );
        await db.exec(
          `INSERT INTO delivery_jobs (id, mode, prompt, params, status, adapters_used, created_at, updated_at)
           VALUES (${p(1)}, 'http', 'a robot', '{}', 'succeeded', ${p(2)}, ${p(3)}, ${p(4)})`,
          [delivery, pair, now, now],
        );
        expect(await robotUse()).toMatchObject({
          coUsageCount: 3,
          reasons: expect.arrayContaining(['Used together: 1 recipe, 1 composition, 1 delivery']),
        });
        // A recipe edited without Neon Lights and a deleted delivery no longer count.
        await db.exec(`UPDATE recipes SET loras = ${p(1)} WHERE id = ${p(2)}`, [
          JSON.stringify([{ adapterId: ids.robot, name: 'Mecha Robot', weight: 1 }]),
          recipe,
        ]);
        await db.exec(`DELETE FROM delivery_jobs WHERE id = ${p(1)}`, [delivery]);
        expect(await robotUse()).toMatchObject({
          coUsageCount: 1,
          reasons: expect.arrayContaining(['Used together: 1 composition']),
        });
      } finally {
        await db.exec(`DELETE FROM generation_jobs WHERE id = ${p(1)}`, [generation]);
        await db.exec(`DELETE FROM recipes WHERE id = ${p(1)}`, [recipe]);
        await db.close();
      }
    });

    it('should flag adapters of another base-model family when asked to keep them', async () => {
      const items = await similar(ids.ink, '?includeIncompatible=true&limit=20');
      const old = items.find((i) => i.adapter.name === 'Ink Old');
      expect(old).toMatchObject({ compatible: false, adapter: { baseModel: 'SD 1.5' } });
      expect(old!.reasons).toContain('Other base model family');
      expect((await similar(ids.ink, '?limit=1')).length).toBe(1);
    });

    it('should answer 404 for an unknown or tombstoned adapter and 400 for bad limits', async () => {
      for (const id of [randomUUID(), ids.ghost]) {
        const res = await call('GET', `/recommendations/adapters/${id}/similar`, undefined, VIEWER);
        expect(res.status).toBe(404);
        expect(res.body.code).toBe('adapter_not_found');
      }
      expect((await call('GET', '/recommendations/adapters/not-a-uuid/similar', undefined, VIEWER)).status).toBe(400);
      for (const limit of ['0', '101', 'abc', '1e3']) {
        const res = await call('GET', `/recommendations/adapters/${ids.ink}/similar?limit=${limit}`, undefined, VIEWER);
        expect(res.status).toBe(400);
        expect(res.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'limit' })]));
      }
      const bad = await call('GET', `/recommendations/adapters/${ids.ink}/similar?includeIncompatible=maybe`);
      expect(bad.status).toBe(400);
    });

    it('should find adapters for a prompt with the matching terms, within the checkpoint family', async () => {
      const items = await forPrompt({ prompt: 'a knight in <lora:x:0.7> (mecha armor:1.2), night city', limit: 5 });
      expect(items[0].adapter.name).toBe('Mecha Robot');
      expect(items[0].matchedTerms).toEqual(expect.arrayContaining(['mecha armor', 'mecha']));
      expect(items[0].reasons[0]).toMatch(/^Matches: mecha armor/);
      const sd15 = await forPrompt({ prompt: 'ink style landscape', baseModel: 'SD 1.5' });
      expect(names(sd15)).toEqual(['Ink Old']);
      const flagged = await forPrompt({
        prompt: 'ink style landscape',
        baseModel: 'SD 1.5',
        includeIncompatible: true,
      });
      expect(flagged.find((i) => i.adapter.name === 'Ink One')?.compatible).toBe(false);
      expect(await forPrompt({ prompt: 'zzzz qqqq' })).toEqual([]);
    });

    it('should refuse an empty prompt and bad limits with the field named', async () => {
      for (const body of [{ prompt: '' }, { prompt: '   ' }, {}, { prompt: 5 }, { prompt: null }]) {
        const res = await call('POST', '/recommendations/for-prompt', body, VIEWER);
        expect(res.status).toBe(400);
        expect(res.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'prompt' })]));
      }
      for (const limit of [0, 101, 2.5, '3']) {
        const res = await call('POST', '/recommendations/for-prompt', { prompt: 'ink', limit }, VIEWER);
        expect(res.status).toBe(400);
        expect(res.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'limit' })]));
      }
    });

    it('should list adapters by trigger word, exact phrase first', async () => {
      const res = await call('GET', '/recommendations/by-trigger?word=Ink%20Wash', undefined, VIEWER);
      expect(res.status).toBe(200);
      const items = res.body.items as Item[];
      expect(items[0]).toMatchObject({ adapter: { name: 'Ink Wash Style' }, matchedTerms: ['ink wash'] });
      expect(items[0].reasons).toContain('Trigger word: ink wash');
      expect((await call('GET', '/recommendations/by-trigger?word=', undefined, VIEWER)).status).toBe(400);
      expect((await call('GET', '/recommendations/by-trigger', undefined, VIEWER)).status).toBe(400);
    });

    it('should let feedback change later rankings', async () => {
      const before = names(await similar(ids.ink));
      expect(before.indexOf('Ink One')).toBeLessThan(before.indexOf('Ink Two'));
      const res = await call('POST', '/recommendations/feedback', {
        kind: 'similar',
        sourceAdapterId: ids.ink,
        adapterId: ids.one,
        useful: false,
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ totals: { useful: 0, notUseful: 1 } });
      const after = await similar(ids.ink, '', last());
      expect(names(after).indexOf('Ink Two')).toBeLessThan(names(after).indexOf('Ink One'));
      const one = after.find((i) => i.adapter.name === 'Ink One')!;
      expect(one.parts.feedback).toBeLessThan(0);
      expect(one.reasons).toContain('Marked not useful 1 time');

      const useful = await call('POST', '/recommendations/feedback', {
        kind: 'prompt',
        adapterId: ids.two,
        useful: true,
        prompt: 'ink style',
      });
      expect(useful.status).toBe(201);
      const prompt = await forPrompt({ prompt: 'ink style' }, last());
      expect(prompt.find((i) => i.adapter.name === 'Ink Two')!.parts.feedback).toBeGreaterThan(0);
    });

    it('should refuse feedback on unknown adapters and without the adapter of a similar list', async () => {
      const unknown = await call('POST', '/recommendations/feedback', {
        kind: 'prompt',
        adapterId: randomUUID(),
        useful: true,
      });
      expect(unknown.status).toBe(404);
      const noSource = await call('POST', '/recommendations/feedback', {
        kind: 'similar',
        adapterId: ids.one,
        useful: true,
      });
      expect(noSource.status).toBe(400);
      expect(noSource.body.details).toEqual([expect.objectContaining({ field: 'sourceAdapterId' })]);
      const badKind = await call('POST', '/recommendations/feedback', {
        kind: 'other',
        adapterId: ids.one,
        useful: true,
      });
      expect(badKind.status).toBe(400);
      const viewer = await call(
        'POST',
        '/recommendations/feedback',
        { kind: 'prompt', adapterId: ids.one, useful: true },
        VIEWER,
      );
      expect(viewer.status).toBe(403);
    });

    it('should follow edits and new adapters without a rebuild, in every API instance', async () => {
      // Warm every instance's index first, so the change must arrive incrementally.
      for (const api of stack.apis.keys()) await similar(ids.ink, '', api);
      const patch = await call('PATCH', `/adapters/${ids.robot}`, { tags: ['ink', 'watercolor', 'robot'] });
      expect(patch.status).toBe(200);
      expect(names(await similar(ids.ink, '?limit=20', last()))).toContain('Mecha Robot');

      const db = await openSeedDb(stack.databaseUrl);
      try {
        await seedAdapters(db, [
          seedSpec('cherry', 'Cherry Blossom', ['flowers'], { triggerWords: ['sakura petals'], updatedAt: new Date() }),
        ]);
      } finally {
        await db.close();
      }
      const items = await forPrompt({ prompt: 'girl under sakura petals' }, last());
      expect(items[0]).toMatchObject({ adapter: { name: 'Cherry Blossom' } });
      expect(items[0].matchedTerms).toContain('sakura petals');
    });

    it('should rebuild the index as a job with progress events, and every instance adopt it', async () => {
      const client = new ProgressClient(stack.apis[0].baseUrl, EDITOR);
      try {
        await client.connected();
        expect((await client.subscribe({ topic: 'recommendations' })).ok).toBe(true);
        const started = await call('POST', '/recommendations/index/rebuild');
        expect(started.status).toBe(201);
        expect(started.body).toMatchObject({ name: 'recommendations.rebuild', id: expect.any(String) });
        const jobId = started.body.id as string;
        const done = await client.waitFor(
          (e) => e.event === 'recommendations.completed' && e.payload.jobId === jobId,
          30_000,
        );
        expect(done.payload).toMatchObject({ version: 1, documents: 7, terms: expect.any(Number) });
        const job = await call('GET', `/jobs/recommendations.rebuild/${jobId}`, undefined, VIEWER);
        expect(job.body).toMatchObject({ status: 'completed' });
        for (const api of stack.apis.keys()) {
          const stats = await call('GET', '/recommendations/index', undefined, VIEWER, api);
          expect(stats.status).toBe(200);
          expect(stats.body).toMatchObject({
            model: 'lexical-bm25',
            version: 1,
            documents: 7,
            buildMs: expect.any(Number),
            lastRebuild: { version: 1, status: 'completed', jobId, documents: 7, buildMs: expect.any(Number) },
          });
        }
        const viewer = await call('POST', '/recommendations/index/rebuild', undefined, VIEWER);
        expect(viewer.status).toBe(403);
      } finally {
        client.close();
      }
    }, 60_000);
  });
}

recommendationsSuite('SQLite, embedded', async () => {
  const dir = tempDir('recommend-embedded');
  const port = await freePort();
  const api = new AppProcess('api', { DATA_DIR: dir.path, PORT: String(port), API_KEYS: KEYS }, port).start();
  await api.waitReady('/health/ready', BOOT_MS);
  return {
    apis: [api],
    databaseUrl: `sqlite:${join(dir.path, 'lora-manager.sqlite')}`,
    stop: async () => {
      await api.stop();
      dir.remove();
    },
  };
});

recommendationsSuite('PostgreSQL, scale-out: a worker and two API instances', async () => {
  const dir = tempDir('recommend-scale');
  const redis = createRedisPrefix('recommend');
  const db = await createTestDatabase('recommend');
  const env = { DATA_DIR: dir.path, DATABASE_URL: db.url, REDIS_URL, REDIS_PREFIX: redis.prefix, API_KEYS: KEYS };
  expect((await runCli(['migrate'], env)).code).toBe(0);
  const workerPort = await freePort();
  const worker = new AppProcess('worker', { ...env, WORKER_PORT: String(workerPort) }, workerPort).start();
  const apis: AppProcess[] = [];
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    apis.push(new AppProcess('api', { ...env, PORT: String(port) }, port).start());
  }
  await Promise.all([
    worker.waitReady('/health/ready', BOOT_MS),
    ...apis.map((a) => a.waitReady('/health/ready', BOOT_MS)),
  ]);
  return {
    apis,
    databaseUrl: db.url,
    stop: async () => {
      await Promise.all([...apis.map((a) => a.stop()), worker.stop()]);
      await redis.clear();
      await db.drop();
      dir.remove();
    },
  };
});
