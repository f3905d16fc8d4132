import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openSeedDb, seedAdapters, TOMBSTONED } from './support/adapter-seed.js';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { FakeSdNext } from './support/fake-sdnext.js';
import { seedDeliveries, seedGenerations, type SeedGeneration } from './support/job-seed.js';
import { createRedisPrefix, createTestDatabase, REDIS_URL, tempDir } from './support/test-services.js';

const VIEWER = 'viewer-key-insights-0001';
const EDITOR = 'editor-key-insights-0001';
const KEYS = `${VIEWER}:viewer,${EDITOR}:editor`;
const SD_USER = 'gpu-admin';
const SD_PASSWORD = 'sd-pa55-word-insights';
const DAY = '2026-01-10';
const at = (hhmm: string) => new Date(`${DAY}T${hhmm}:00Z`);

type Body = Record<string, unknown>;

interface Stack {
  api: AppProcess;
  databaseUrl: string;
  scaleOut: boolean;
  stop(): Promise<void>;
}

interface StackOptions {
  sdnextUrl: string;
  roots: string[];
}

function insightsSuite(label: string, startStack: (options: StackOptions) => Promise<Stack>): void {
  describe(`insights (${label})`, () => {
    const fake = new FakeSdNext({ flavour: 'sdnext', stepMs: 2, auth: { user: SD_USER, password: SD_PASSWORD } });
    const dir = tempDir(`insights-roots-${label.split(',')[0].toLowerCase()}`);
    let stack: Stack;
    let base: string;
    const ids: Record<'alpha' | 'beta' | 'gamma', string> = { alpha: '', beta: '', gamma: '' };

    const call = async (method: string, path: string, body?: unknown, key: string | null = VIEWER) => {
      const res = await fetch(`${base}/api/v1${path}`, {
        method,
        headers: {
          ...(key ? { 'x-api-key': key } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, text, body: text ? (JSON.parse(text) as Body) : {} };
    };
    const ok = async (path: string): Promise<Body> => {
      const res = await call('GET', path);
      expect(res.status).toBe(200);
      return res.body;
    };

    beforeAll(async () => {
      const url = new URL(await fake.start());
      url.username = SD_USER;
      url.password = SD_PASSWORD;
      const roots = [join(dir.path, 'loras-a'), join(dir.path, 'loras-b')];
      for (const root of roots) mkdirSync(root, { recursive: true });
      stack = await startStack({ sdnextUrl: url.href, roots });
      base = stack.api.baseUrl;
      const db = await openSeedDb(stack.databaseUrl);
      try {
        [ids.alpha, ids.beta, ids.gamma] = await seedAdapters(db, [
          {
            rootId: 'root00000001',
            relativePath: 'alpha.safetensors',
            name: 'Alpha',
            baseModel: 'SDXL 1.0',
            fileSize: 1000,
            sha256: 'a1'.repeat(32),
            sha256Verified: true,
            civitaiModelId: 11,
            previewPath: 'alpha.png',
            nsfwLevel: 1,
          },
          {
            rootId: 'root00000001',
            relativePath: 'beta.safetensors',
            name: 'Beta',
            baseModel: 'SDXL 1.0',
            modelType: 'LoCon',
            fileSize: 3000,
            warnings: ['sidecar could not be parsed'],
            nsfwLevel: 4,
          },
          {
            rootId: 'root00000001',
            relativePath: 'gamma.safetensors',
            name: 'Gamma',
            baseModel: 'SD 1.5',
            fileSize: 6000,
          },
          { rootId: 'root00000001', relativePath: 'gone.safetensors', name: 'Gone', fileSize: 99, ...TOMBSTONED },
        ]);
        // Hour 10: 20 succeeded runs of 1..20 s on sdnext-0 and two timeouts; hour 11: one cancelled while queued.
        const jobs: SeedGeneration[] = [];
        for (let i = 1; i <= 20; i++) {
          jobs.push({
            status: 'succeeded',
            backendId: 'sdnext-0',
            createdAt: at(`10:${String(i).padStart(2, '0')}`),
            durationMs: i * 1000,
            adapterIds: i <= 12 ? [ids.alpha, ids.beta] : [ids.alpha],
          });
        }
        for (const seconds of [900, 901]) {
          jobs.push({
            status: 'failed',
            backendId: 'sdnext-0',
            createdAt: at('10:40'),
            durationMs: 5,
            error: `SD.Next http://127.0.0.1:7860 POST /sdapi/v1/txt2img: no answer within ${seconds} s`,
          });
        }
        jobs.push({ status: 'cancelled', backendId: null, createdAt: at('11:05') });
        await seedGenerations(db, jobs);
        await seedDeliveries(db, [
          ...[1, 2, 3].map(() => ({ mode: 'http', status: 'succeeded' as const, createdAt: at('12:00') })),
          { mode: 'http', status: 'failed', createdAt: at('12:01'), error: 'HTTP 503 from the receiver' },
          { mode: 'cli', status: 'cancelled', createdAt: at('12:02') },
        ]);
      } finally {
        await db.close();
      }
    }, 120_000);

    afterAll(async () => {
      await stack?.stop();
      await fake.stop();
      dir.remove();
    });

    it('should summarise the library: breakdowns, totals and percentages of present files', async () => {
      const summary = await ok('/analytics/summary');
      expect(summary.totals).toEqual({
        files: 3,
        bytesOnDisk: 10_000,
        hashedPercent: 33.3,
        civitaiLinkedPercent: 33.3,
        withPreviews: 1,
        withWarnings: 1,
        tombstoned: 1,
      });
      expect(summary.byBaseModel).toEqual([
        { key: 'SDXL 1.0', count: 2 },
        { key: 'SD 1.5', count: 1 },
      ]);
      expect(summary.byType).toEqual(expect.arrayContaining([{ key: 'LoCon', count: 1 }]));
      expect(summary.byNsfwLevel).toEqual(expect.arrayContaining([{ key: 4, count: 1 }]));
      expect(summary.recentImports).toEqual([]);
    });

    it('should give hourly counts, mean and nearest-rank p95 per backend, and a daily roll-up', async () => {
      const range = `from=${DAY}T00:00:00Z&to=2026-01-11T00:00:00Z`;
      const hourly = await ok(`/analytics/generations?${range}&bucket=hour`);
      expect(hourly.series).toEqual([
        {
          start: `${DAY}T10:00:00.000Z`,
          backendId: 'sdnext-0',
          count: 22,
          succeeded: 20,
          failed: 2,
          cancelled: 0,
          meanMs: 10_500,
          p95Ms: 19_000,
        },
        {
          start: `${DAY}T11:00:00.000Z`,
          backendId: null,
          count: 1,
          succeeded: 0,
          failed: 0,
          cancelled: 1,
          meanMs: null,
          p95Ms: null,
        },
      ]);
      const daily = await ok(`/analytics/generations?${range}&bucket=day&backendId=sdnext-0`);
      expect(daily.series).toEqual([
        expect.objectContaining({ start: `${DAY}T00:00:00.000Z`, count: 22, p95Ms: 19_000 }),
      ]);
      expect(daily.totals).toEqual([expect.objectContaining({ backendId: 'sdnext-0', count: 22, meanMs: 10_500 })]);
      // A range that misses the seeded day is empty, not an error.
      const empty = await ok('/analytics/generations?from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z');
      expect(empty).toMatchObject({ bucket: 'hour', series: [], totals: [] });
    });

    it('should rank the adapters and the pairs used in images', async () => {
      const usage = await ok(`/analytics/adapters?from=${DAY}T00:00:00Z&to=2026-01-11T00:00:00Z&limit=5`);
      expect(usage.adapters).toEqual([
        { adapterId: ids.alpha, name: 'Alpha', baseModel: 'SDXL 1.0', images: 20 },
        { adapterId: ids.beta, name: 'Beta', baseModel: 'SDXL 1.0', images: 12 },
      ]);
      const pair = [ids.alpha, ids.beta].sort();
      expect(usage.pairs).toEqual([
        {
          adapters: pair.map((id) => ({ adapterId: id, name: id === ids.alpha ? 'Alpha' : 'Beta' })),
          images: 12,
        },
      ]);
    });

    it('should count partial hours and days from the rows and whole ones from the roll-ups alike', async () => {
      const hourly = await ok(`/analytics/generations?from=${DAY}T10:10:30Z&to=${DAY}T11:30:00Z&bucket=hour`);
      expect(hourly.series).toEqual([
        expect.objectContaining({ backendId: 'sdnext-0', count: 12, succeeded: 10, failed: 2, meanMs: 15_500 }),
        expect.objectContaining({ backendId: null, count: 1, cancelled: 1 }),
      ]);
      expect((hourly.series as Body[])[0].p95Ms).toBe(20_000);
      // Results are stamped when their job finished: 10:0i plus 1 + i seconds.
      const partial = await ok(`/analytics/adapters?from=${DAY}T10:05:30Z&to=${DAY}T12:00:00Z`);
      expect(partial.adapters).toEqual([
        expect.objectContaining({ adapterId: ids.alpha, images: 15 }),
        expect.objectContaining({ adapterId: ids.beta, images: 7 }),
      ]);
      expect((partial.pairs as Body[]).map((p) => p.images)).toEqual([7]);
      const mixed = `from=2026-01-09T12:00:00Z&to=2026-01-11T06:00:00Z`;
      const usage = await ok(`/analytics/adapters?${mixed}`);
      expect((usage.adapters as Body[]).map((a) => a.images)).toEqual([20, 12]);
      expect((usage.pairs as Body[]).map((p) => p.images)).toEqual([12]);
      const daily = await ok(`/analytics/generations?${mixed}&bucket=day`);
      expect(daily.totals).toEqual([
        expect.objectContaining({ backendId: null, count: 1 }),
        expect.objectContaining({ backendId: 'sdnext-0', count: 22, meanMs: 10_500, p95Ms: 19_000 }),
      ]);
    });

    it('should group failures by cause and count delivery outcomes by mode', async () => {
      const range = `from=${DAY}T00:00:00Z&to=2026-01-11T00:00:00Z`;
      const failures = await ok(`/analytics/failures?${range}`);
      expect(failures.reasons).toEqual([
        expect.objectContaining({
          source: 'generation',
          count: 2,
          reason: expect.stringContaining('no answer within # s'),
        }),
        expect.objectContaining({ source: 'delivery', count: 1, example: 'HTTP 503 from the receiver' }),
      ]);
      const deliveries = await ok(`/analytics/deliveries?${range}`);
      expect(deliveries.modes).toEqual([
        { mode: 'cli', total: 1, succeeded: 0, failed: 0, cancelled: 1, pending: 0 },
        { mode: 'http', total: 4, succeeded: 3, failed: 1, cancelled: 0, pending: 0 },
      ]);
    });

    it('should refuse an empty or inverted range, hour buckets over a long range and a foreign cursor', async () => {
      const inverted = await call('GET', '/analytics/generations?from=2026-01-11T00:00:00Z&to=2026-01-10T00:00:00Z');
      expect(inverted.status).toBe(400);
      expect(inverted.body.code).toBe('invalid_range');
      const long = await call(
        'GET',
        '/analytics/generations?from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&bucket=hour',
      );
      expect(long.status).toBe(400);
      expect(long.body.code).toBe('range_too_long');
      const cursor = await call('GET', `/activity?cursor=${Buffer.from('{"at":"x"}').toString('base64url')}`);
      expect(cursor.status).toBe(400);
      expect(cursor.body.code).toBe('invalid_cursor');
      expect((await call('GET', '/activity?kinds=import,nonsense')).status).toBe(400);
    });

    it('should record edits and list every kind of activity newest first, page by page', async () => {
      expect((await call('PATCH', `/adapters/${ids.gamma}`, { notes: 'great', tags: ['x'] }, EDITOR)).status).toBe(200);
      expect((await call('POST', '/adapters/bulk', { action: 'favorite', ids: [ids.alpha] }, EDITOR)).status).toBe(200);
      expect((await call('DELETE', `/adapters/${ids.beta}`, undefined, EDITOR)).status).toBe(204);
      const edits = await ok('/activity?kinds=edit');
      expect(edits.items).toEqual([
        expect.objectContaining({ kind: 'edit', status: 'delete', summary: 'Beta', adapterId: ids.beta, fields: [] }),
        expect.objectContaining({ kind: 'edit', status: 'edit', summary: 'Alpha', fields: ['favorite'] }),
        expect.objectContaining({
          kind: 'edit',
          status: 'edit',
          summary: 'Gamma',
          fields: expect.arrayContaining(['notes', 'tags']),
        }),
      ]);

      const seen: Body[] = [];
      let cursor: string | null = null;
      do {
        const page = await ok(`/activity?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
        const items = page.items as Body[];
        expect(items.length).toBeLessThanOrEqual(4);
        seen.push(...items);
        cursor = page.nextCursor as string | null;
      } while (cursor);
      // 23 generations, 5 deliveries, 3 edits; no import ran.
      expect(seen).toHaveLength(31);
      expect(new Set(seen.map((i) => i.id)).size).toBe(31);
      const times = seen.map((i) => Date.parse(i.at as string));
      expect(times).toEqual([...times].sort((a, b) => b - a));
      expect(seen.slice(0, 3).map((i) => i.kind)).toEqual(['edit', 'edit', 'edit']);
      expect(seen.filter((i) => i.kind === 'delivery')).toHaveLength(5);
      expect(seen.find((i) => i.kind === 'generation' && i.status === 'failed')?.summary).toContain('no answer within');
    });

    it('should show the backend busy with its progress while a generation runs, then idle', async () => {
      fake.setStepMs(40);
      const queued = await call('POST', '/generation/queue-generation', { prompt: 'a slow fox', steps: 60 }, EDITOR);
      expect(queued.status).toBe(201);
      await fake.waitForStep(3);
      const busy = await ok('/system/status');
      const [backend] = busy.backends as Body[];
      expect(backend).toMatchObject({
        id: 'sdnext-0',
        reachable: true,
        flavour: 'sdnext',
        version: '058a7f0cf',
        busy: true,
      });
      expect(backend.currentModel).toBe(fake.currentCheckpoint);
      expect((backend.progress as Body).steps).toBe(60);
      expect((backend.progress as Body).progress).toBeGreaterThan(0);
      const generation = (busy.queues as Body[]).find((q) => q.name === 'generation');
      expect(generation).toMatchObject({ active: 1 });
      fake.setStepMs(1);
      const deadline = Date.now() + 20_000;
      for (;;) {
        const job = await ok(`/generation/jobs/${String(queued.body.id)}`);
        if (job.status === 'succeeded') break;
        if (Date.now() > deadline) throw new Error(`generation still ${String(job.status)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const idle = await ok('/system/status');
      expect((idle.backends as Body[])[0]).toMatchObject({ busy: false });
      expect((idle.backends as Body[])[0].progress).toBeUndefined();
      const activity = await ok('/activity?kinds=generation&limit=1');
      expect((activity.items as Body[])[0]).toMatchObject({
        id: queued.body.id,
        status: 'succeeded',
        target: 'sdnext-0',
      });
    });

    it('should follow jobs that finish or go and links added or removed later', async () => {
      const day = '2026-01-20';
      const range = `from=${day}T00:00:00Z&to=2026-01-21T00:00:00Z`;
      const db = await openSeedDb(stack.databaseUrl);
      const time = (d: Date): unknown => (db.pg ? d : d.toISOString().replace('T', ' ').replace('Z', ''));
      const ph = (i: number) => (db.pg ? `$${i}` : '?');
      try {
        const created = new Date(`${day}T09:00:00Z`);
        const [done, running, failed] = await seedGenerations(db, [
          { status: 'succeeded', backendId: 'sdnext-0', createdAt: created, durationMs: 4000, adapterIds: [ids.alpha] },
          { status: 'running', backendId: 'sdnext-1', createdAt: created },
          { status: 'failed', backendId: 'sdnext-1', createdAt: created, durationMs: 10, error: 'out of memory' },
        ]);
        const [result] = await db.query<{ id: string }>(`SELECT id FROM generation_results WHERE job_id = ${ph(1)}`, [
          done,
        ]);
        // Links written in two statements: the pair is counted once, whichever statement brings its second link.
        await db.exec(
          `INSERT INTO generation_result_adapters (result_id, adapter_id) VALUES (${ph(1)}, ${ph(2)}), (${ph(3)}, ${ph(4)})`,
          [result.id, ids.gamma, result.id, ids.beta],
        );
        let usage = await ok(`/analytics/adapters?${range}`);
        expect((usage.adapters as Body[]).map((a) => [a.adapterId, a.images])).toEqual(
          [ids.alpha, ids.beta, ids.gamma].sort().map((id) => [id, 1]),
        );
        expect((usage.pairs as Body[]).map((p) => p.images)).toEqual([1, 1, 1]);

        await db.exec(
          `UPDATE generation_jobs SET status = 'succeeded', started_at = ${ph(1)}, finished_at = ${ph(2)} WHERE id = ${ph(3)}`,
          [time(new Date(created.getTime() + 1000)), time(new Date(created.getTime() + 8_250)), running],
        );
        await db.exec(`DELETE FROM generation_jobs WHERE id = ${ph(1)}`, [failed]);
        const stats = await ok(`/analytics/generations?${range}&bucket=day`);
        expect(stats.totals).toEqual([
          expect.objectContaining({ backendId: 'sdnext-0', count: 1, succeeded: 1, meanMs: 4000, p95Ms: 4000 }),
          expect.objectContaining({
            backendId: 'sdnext-1',
            count: 1,
            succeeded: 1,
            failed: 0,
            meanMs: 7250,
            p95Ms: 7300,
          }),
        ]);

        await db.exec(`DELETE FROM generation_result_adapters WHERE result_id = ${ph(1)} AND adapter_id = ${ph(2)}`, [
          result.id,
          ids.beta,
        ]);
        usage = await ok(`/analytics/adapters?${range}`);
        expect(usage.adapters).toHaveLength(2);
        expect(usage.pairs).toEqual([expect.objectContaining({ images: 1 })]);
        await db.exec(`DELETE FROM generation_result_adapters WHERE result_id = ${ph(1)}`, [result.id]);
        usage = await ok(`/analytics/adapters?${range}`);
        expect(usage).toMatchObject({ adapters: [], pairs: [] });
      } finally {
        await db.close();
      }
    });

    it('should let a viewer read the system status, and hold no credential in it', async () => {
      expect((await call('GET', '/system/status', undefined, null)).status).toBe(401);
      const res = await call('GET', '/system/status');
      expect(res.status).toBe(200);
      const status = res.body;
      expect(status).toMatchObject({
        version: '0.1.0',
        mode: stack.scaleOut ? 'scale-out' : 'embedded',
        database: { ok: true, type: stack.scaleOut ? 'postgres' : 'better-sqlite3' },
      });
      expect(status.uptimeSeconds).toBeGreaterThanOrEqual(0);
      expect(((status.database as Body).latencyMs as number) >= 0).toBe(true);
      if (stack.scaleOut) {
        expect(status.redis).toMatchObject({ ok: true });
        expect((status.alive as Body).worker).toBeGreaterThanOrEqual(1);
      } else {
        expect(status.redis).toBeUndefined();
      }
      expect((status.alive as Body).api).toBeGreaterThanOrEqual(1);
      expect((status.queues as Body[]).map((q) => q.name)).toEqual(
        expect.arrayContaining(['generation', 'import', 'delivery', 'hash', 'civitai-lookup']),
      );
      const disks = status.disks as Body[];
      expect(disks.map((d) => d.name)[0]).toBe('DATA_DIR');
      expect(disks).toHaveLength(3);
      for (const disk of disks) expect(disk.freeBytes as number).toBeGreaterThan(0);
      const backend = (status.backends as Body[])[0];
      expect(backend.url).toBe(new URL(backend.url as string).origin);
      for (const secret of [SD_PASSWORD, SD_USER, VIEWER, EDITOR]) expect(res.text).not.toContain(secret);
    });
  });
}

insightsSuite('SQLite, embedded', async ({ sdnextUrl, roots }) => {
  const dir = tempDir('insights-embedded');
  const port = await freePort();
  const env = {
    DATA_DIR: dir.path,
    PORT: String(port),
    SDNEXT_URL: sdnextUrl,
    API_KEYS: KEYS,
    LORA_ROOTS: roots.join(','),
  };
  const api = new AppProcess('api', env, port).start();
  await api.waitReady('/health/ready', 90_000);
  return {
    api,
    databaseUrl: `sqlite:${join(dir.path, 'lora-manager.sqlite')}`,
    scaleOut: false,
    stop: async () => {
      await api.stop();
      dir.remove();
    },
  };
});

insightsSuite('PostgreSQL, scale-out worker', async ({ sdnextUrl, roots }) => {
  const dir = tempDir('insights-scale');
  const redis = createRedisPrefix('insights');
  const db = await createTestDatabase('insights');
  const env = {
    DATA_DIR: dir.path,
    DATABASE_URL: db.url,
    REDIS_URL,
    REDIS_PREFIX: redis.prefix,
    SDNEXT_URL: sdnextUrl,
    API_KEYS: KEYS,
    LORA_ROOTS: roots.join(','),
  };
  expect((await runCli(['migrate'], env)).code).toBe(0);
  const workerPort = await freePort();
  const worker = new AppProcess('worker', { ...env, WORKER_PORT: String(workerPort) }, workerPort).start();
  const port = await freePort();
  const api = new AppProcess('api', { ...env, PORT: String(port) }, port).start();
  await Promise.all([api.waitReady('/health/ready', 90_000), worker.waitReady('/health/ready', 90_000)]);
  return {
    api,
    databaseUrl: db.url,
    scaleOut: true,
    stop: async () => {
      await Promise.all([api.stop(), worker.stop()]);
      await redis.clear();
      await db.drop();
      dir.remove();
    },
  };
});
