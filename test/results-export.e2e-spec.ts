import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import yauzl from 'yauzl';
import { ThumbnailService } from '../libs/core/src/media/thumbnail.service.js';
import { resultThumbnailIdentity } from '../libs/results/src/results.service.js';
import { openSeedDb } from './support/adapter-seed.js';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { FakeSdNext } from './support/fake-sdnext.js';
import { tinyPng } from './support/images.js';
import { ProgressClient } from './support/progress-client.js';
import { type SeedResult, type SeededResult, seedResultRows } from './support/result-seed.js';
import { TestS3Server } from './support/s3-server.js';
import { LocalTestFiles, S3TestFiles, type TestFiles } from './support/test-files.js';
import { createRedisPrefix, createTestDatabase, REDIS_URL, tempDir } from './support/test-services.js';

const VIEWER = 'viewer-key-res-export-01';
const EDITOR = 'editor-key-res-export-01';
const ADMIN = 'admin-key-res-export-001';
const KEYS = `${VIEWER}:viewer,${EDITOR}:editor,${ADMIN}:admin`;
const DAY = 86_400_000;
/** Rows seeded for the large export (the benchmark streams 100,000). */
const MANY = 2_000;

interface Stack {
  /** API instances: one embedded, two in scale-out. */
  apis: AppProcess[];
  databaseUrl: string;
  /** The product's file storage: a local folder or an S3 bucket. */
  files: TestFiles;
  env: Record<string, string>;
  /** Scale-out: retention runs on a schedule; embedded: on demand only. */
  scheduled: boolean;
  stop(): Promise<void>;
}

/** Every entry of a ZIP, by name; yauzl checks the structure (central directory, sizes, CRCs as it reads). */
async function unzip(zip: Buffer): Promise<Map<string, Buffer>> {
  const file = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(zip, { lazyEntries: true, validateEntrySizes: true }, (e, z) => (e ? reject(e) : resolve(z))),
  );
  const out = new Map<string, Buffer>();
  await new Promise<void>((resolve, reject) => {
    file.on('error', reject);
    file.on('end', () => resolve());
    file.on('entry', (entry: yauzl.Entry) => {
      file.openReadStream(entry, (error, stream) => {
        if (error) return reject(error);
        const parts: Buffer[] = [];
        stream.on('data', (c: Buffer) => parts.push(c));
        stream.on('error', reject);
        stream.on('end', () => {
          out.set(entry.fileName, Buffer.concat(parts));
          file.readEntry();
        });
      });
    });
    file.readEntry();
  });
  return out;
}

function exportSuite(label: string, startStack: (sdnextUrl: string) => Promise<Stack>): void {
  describe(`results export, retention and storage check (${label})`, () => {
    const fake = new FakeSdNext({ flavour: 'sdnext', stepMs: 2, imageFormat: 'png' });
    let stack: Stack;
    let base: string;
    const clients: ProgressClient[] = [];
    let generated: string[] = [];
    let many: SeededResult[] = [];

    const call = async (method: string, path: string, body?: unknown, key = EDITOR, at = base) => {
      const res = await fetch(`${at}/api/v1${path}`, {
        method,
        headers: { 'x-api-key': key, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    };
    const download = async (body: unknown) => {
      const res = await fetch(`${base}/api/v1/results/export`, {
        method: 'POST',
        headers: { 'x-api-key': VIEWER, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { res, zip: Buffer.from(await res.arrayBuffer()) };
    };
    const seed = async (specs: SeedResult[]): Promise<SeededResult[]> => {
      const db = await openSeedDb(stack.databaseUrl);
      try {
        const seeded = await seedResultRows(
          (sql, params) => db.exec(sql, params),
          db.pg,
          stack.files.seedDir,
          specs,
          tinyPng(),
        );
        await stack.files.publish();
        return seeded;
      } finally {
        await db.close();
      }
    };
    /** Sets the rows' creation times in one statement. */
    const setCreatedAt = async (times: [id: string, at: Date][]) => {
      const db = await openSeedDb(stack.databaseUrl);
      const mark = (n: number) => (db.pg ? `$${n}` : '?');
      const stamp = (at: Date) => (db.pg ? at.toISOString() : at.toISOString().replace('T', ' ').replace('Z', ''));
      const cases = times.map((_, i) => `WHEN ${mark(2 * i + 1)} THEN ${mark(2 * i + 2)}`).join(' ');
      const ids = times.map((_, i) => mark(2 * times.length + i + 1)).join(', ');
      const cast = db.pg ? '::timestamptz' : '';
      try {
        await db.exec(`UPDATE generation_results SET created_at = (CASE id ${cases} END)${cast} WHERE id IN (${ids})`, [
          ...times.flatMap(([id, at]) => [id, stamp(at)]),
          ...times.map(([id]) => id),
        ]);
      } finally {
        await db.close();
      }
    };
    const exists = async (id: string) => (await call('GET', `/results/${id}`, undefined, VIEWER)).status === 200;

    beforeAll(async () => {
      stack = await startStack(await fake.start());
      base = stack.apis[0].baseUrl;
      for (const api of stack.apis) {
        const client = new ProgressClient(api.baseUrl, VIEWER);
        await client.connected();
        expect((await client.subscribe({ topic: 'results' })).ok).toBe(true);
        clients.push(client);
      }
      const queued = await call('POST', '/generation/queue-generation', {
        prompt: 'an exported fox',
        steps: 2,
        seed: 77,
        batch_size: 2,
      });
      expect(queued.status).toBe(201);
      const deadline = Date.now() + 20_000;
      for (;;) {
        const job = await call('GET', `/generation/jobs/${queued.body.id as string}`, undefined, VIEWER);
        if (job.body.status === 'succeeded') break;
        if (Date.now() > deadline) throw new Error(`generation ${String(job.body.status)}`);
        await new Promise((r) => setTimeout(r, 30));
      }
      const listed = await call('GET', `/results?limit=10`, undefined, VIEWER);
      generated = (listed.body.items as { id: string; jobId: string }[])
        .filter((r) => r.jobId === queued.body.id)
        .map((r) => r.id);
      expect(generated).toHaveLength(2);
      // Recent (the last hour): retention leaves them alone.
      const manyFrom = Date.now() - 3_600_000;
      many = await seed(
        Array.from({ length: MANY }, (_, i) => ({
          createdAt: new Date(manyFrom + i * 1000),
          backendId: 'bulk-backend',
          prompt: `bulk ${i}`,
        })),
      );
    }, 180_000);

    afterAll(async () => {
      for (const client of clients) client.close();
      await stack?.stop();
      await fake.stop();
    });

    it('should estimate a selection by ids or by filters before exporting it', async () => {
      const byIds = await call('POST', '/results/export/estimate', { ids: generated }, VIEWER);
      expect(byIds.status).toBe(200);
      expect(byIds.body).toEqual({ count: 2, bytes: expect.any(Number), archiveBytes: expect.any(Number) });
      expect(byIds.body.archiveBytes as number).toBeGreaterThan(byIds.body.bytes as number);
      const byFilter = await call('POST', '/results/export/estimate', { backendId: 'bulk-backend' }, VIEWER);
      expect(byFilter.body).toMatchObject({ count: MANY, bytes: MANY * tinyPng().length });
    });

    it('should refuse an export that matches nothing, and ids mixed with filters, with a code', async () => {
      const empty = await call('POST', '/results/export', { backendId: 'no-such-backend' }, VIEWER);
      expect(empty.status).toBe(400);
      expect(empty.body).toMatchObject({ code: 'export_empty' });
      const gone = await call('POST', '/results/export', { ids: ['00000000-0000-4000-8000-000000000000'] }, VIEWER);
      expect(gone.body).toMatchObject({ code: 'export_empty' });
      const both = await call('POST', '/results/export', { ids: generated, favorite: true }, VIEWER);
      expect(both.status).toBe(400);
      expect(both.body).toMatchObject({ code: 'export_selection' });
    });

    it('should stream the chosen results as a ZIP of images, one metadata JSON each and an index', async () => {
      const { res, zip } = await download({ ids: generated });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/zip');
      expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="results-[\d-]+\.zip"$/);
      const entries = await unzip(zip);
      expect([...entries.keys()].sort()).toEqual(
        [...generated.flatMap((id) => [`results/${id}.png`, `results/${id}.json`]), 'index.json'].sort(),
      );
      for (const id of generated) {
        const original = await fetch(`${base}/api/v1/results/${id}/image`, { headers: { 'x-api-key': VIEWER } });
        expect(entries.get(`results/${id}.png`)!.equals(Buffer.from(await original.arrayBuffer()))).toBe(true);
        const metadata = JSON.parse(entries.get(`results/${id}.json`)!.toString()) as Record<string, unknown>;
        expect(metadata).toMatchObject({ id, image: `results/${id}.png`, prompt: 'an exported fox', format: 'png' });
        expect(metadata.request).toMatchObject({ steps: 2 });
      }
      const index = JSON.parse(entries.get('index.json')!.toString()) as { count: number; results: { id: string }[] };
      expect(index.count).toBe(2);
      expect(index.results.map((r) => r.id)).toEqual(generated);
    });

    it(`should stream ${MANY} results chosen by filters, oldest first, into a valid archive`, async () => {
      const { res, zip } = await download({ backendId: 'bulk-backend' });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-result-count')).toBe(String(MANY));
      const entries = await unzip(zip);
      expect(entries.size).toBe(MANY * 2 + 1);
      const index = JSON.parse(entries.get('index.json')!.toString()) as {
        count: number;
        missing: number;
        results: { id: string; image: string }[];
      };
      expect(index).toMatchObject({ count: MANY, missing: 0 });
      expect(index.results.map((r) => r.id)).toEqual(many.map((r) => r.id));
      for (const row of [many[0], many[MANY / 2], many[MANY - 1]]) {
        expect(entries.get(`results/${row.id}.png`)!.equals(tinyPng())).toBe(true);
      }
    }, 120_000);

    it('should still export a result whose file is gone: its metadata, marked missing in the index', async () => {
      const [broken] = await seed([{ image: null, backendId: 'broken-backend' }]);
      const [whole] = await seed([{ backendId: 'broken-backend' }]);
      const entries = await unzip((await download({ ids: [broken.id, whole.id] })).zip);
      expect(entries.has(`results/${broken.id}.png`)).toBe(false);
      expect(JSON.parse(entries.get(`results/${broken.id}.json`)!.toString())).toMatchObject({ image: null });
      const index = JSON.parse(entries.get('index.json')!.toString()) as { missing: number; results: unknown[] };
      expect(index.missing).toBe(1);
      expect(index.results[0]).toMatchObject({ id: broken.id, image: null, missing: true });
      expect(entries.has(`results/${whole.id}.png`)).toBe(true);
      await call('POST', '/results/bulk-delete', { ids: [broken.id, whole.id] });
    });

    it('should deliver result.deleted to the clients of every API instance', async () => {
      const doomed = many.slice(0, 3).map((r) => r.id);
      const deleted = await call('POST', '/results/bulk-delete', { ids: doomed });
      expect((deleted.body.done as string[]).sort()).toEqual([...doomed].sort());
      for (const client of clients) {
        for (const id of doomed) {
          await client.waitFor(
            (e) => e.event === 'result.deleted' && (e.payload as { resultId: string }).resultId === id,
          );
        }
      }
      // Each client hears of each deletion once, whichever instance deleted it.
      for (const client of clients) {
        const heard = client.events.filter(
          (e) => e.event === 'result.deleted' && doomed.includes((e.payload as { resultId: string }).resultId),
        );
        expect(heard).toHaveLength(doomed.length);
      }
    });

    it('should report orphaned files and results without a file, and repair them with storage check', async () => {
      const orphanOld = 'generations/11111111-1111-4111-8111-111111111111/0.png';
      const orphanNew = 'generations/22222222-2222-4222-8222-222222222222/0.png';
      await stack.files.write(orphanOld, tinyPng(), new Date(Date.now() - 3 * DAY));
      await stack.files.write(orphanNew, tinyPng());
      const [lost] = await seed([{ createdAt: new Date(Date.now() - 60_000) }]);
      await stack.files.remove(lost.storageKey);

      const check = await runCli(['storage', 'check', '--json'], stack.env);
      expect(check.code).toBe(1);
      const report = JSON.parse(check.output.trim().split('\n').at(-1)!) as Record<string, Record<string, unknown>>;
      expect(report.orphans).toMatchObject({ count: 2, deleted: 0 });
      expect(report.broken).toMatchObject({ count: 1, sample: [lost.id], deleted: 0 });
      expect(report.unrecorded).toMatchObject({ count: 0 });
      expect(await stack.files.exists(orphanOld)).toBe(true);

      const repair = await runCli(['storage', 'check', '--repair', '--json'], stack.env);
      expect(repair.code).toBe(0);
      const repaired = JSON.parse(repair.output.trim().split('\n').at(-1)!) as Record<string, Record<string, unknown>>;
      expect(repaired.orphans).toMatchObject({ count: 2, deleted: 1, deletedBytes: tinyPng().length });
      expect(repaired.broken).toMatchObject({ count: 1, deleted: 1 });
      expect(await stack.files.exists(orphanOld)).toBe(false);
      // Younger than the grace period: it may belong to a result being recorded right now.
      expect(await stack.files.exists(orphanNew)).toBe(true);
      expect(await exists(lost.id)).toBe(false);
      if (stack.scheduled) {
        // Scale-out: the CLI's deletion reaches the API instances' clients too (embedded, the CLI has no channel to
        // the API process; the row is gone all the same).
        await clients[0].waitFor(
          (e) => e.event === 'result.deleted' && (e.payload as { resultId: string }).resultId === lost.id,
        );
      }
      await stack.files.remove(orphanNew);

      const clean = await runCli(['storage', 'check'], stack.env);
      expect(clean.code).toBe(0);
      expect(clean.output).toMatch(/orphaned files\s+0/);
      expect(clean.output).toMatch(/results w\/o file\s+0/);
    }, 180_000);

    it('should report what retention would remove, then remove exactly that, keeping favorites and rated', async () => {
      const ago = (days: number) => new Date(Date.now() - days * DAY);
      const ages = [90, 60, 45, 80, 70, 10, 50].map(ago);
      const specs: SeedResult[] = [{}, { rating: 3 }, {}, { favorite: true }, { rating: 4 }, {}, {}];
      // Seeded recent, so that the last one's thumbnail can be made first; then aged in one statement, so that a
      // scheduled run sees all of them at once.
      const seeded = await seed(specs.map((spec) => ({ ...spec, createdAt: new Date() })));
      const pictured = seeded[6];
      const thumbnail = await fetch(`${base}/api/v1/results/${pictured.id}/thumbnail?size=256`, {
        headers: { 'x-api-key': VIEWER },
      });
      expect(thumbnail.status).toBe(200);
      const [thumbnailKey] = ThumbnailService.keysOf(resultThumbnailIdentity(pictured));
      expect(await stack.files.exists(thumbnailKey)).toBe(true);
      await setCreatedAt(seeded.map((row, i) => [row.id, ages[i]]));
      const expired = [seeded[0].id, seeded[1].id, seeded[2].id, pictured.id];
      const kept = [seeded[3].id, seeded[4].id, seeded[5].id, ...generated, many[MANY - 1].id];

      if (stack.scheduled) {
        // One API instance runs each period (the lease): the rows go without anyone asking.
        const deadline = Date.now() + 30_000;
        const runs = () => stack.apis.flatMap((api) => api.text.match(/Retention removed [1-9]/g) ?? []);
        while (runs().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
        // They went in one run, by one instance.
        expect(runs()).toEqual([`Retention removed ${expired.length}`]);
      } else {
        expect((await call('POST', '/results/retention/dry-run', undefined, EDITOR)).status).toBe(403);
        const dry = await call('POST', '/results/retention/dry-run', undefined, ADMIN);
        expect(dry.status).toBe(200);
        expect(dry.body).toMatchObject({
          dryRun: true,
          active: true,
          policy: { maxAgeDays: 30, maxTotalMb: null, keepRating: 4 },
          removed: {
            count: expired.length,
            bytes: expired.length * tinyPng().length,
            oldest: ages[0].toISOString(),
            newest: ages[2].toISOString(),
          },
        });
        expect(await exists(seeded[0].id)).toBe(true);
        const run = await call('POST', '/results/retention/run', undefined, ADMIN);
        expect(run.body).toMatchObject({ dryRun: false, removed: { count: expired.length } });
        expect(run.body.after).toEqual(dry.body.after);
      }
      for (const id of expired) expect(await exists(id)).toBe(false);
      for (const id of kept) expect(await exists(id)).toBe(true);
      expect(await stack.files.exists(seeded[0].storageKey)).toBe(false);
      expect(await stack.files.exists(thumbnailKey)).toBe(false);
      await clients
        .at(-1)!
        .waitFor((e) => e.event === 'result.deleted' && (e.payload as { resultId: string }).resultId === seeded[2].id);
      const after = await call('POST', '/results/retention/dry-run', undefined, ADMIN);
      expect(after.body).toMatchObject({ removed: { count: 0, oldest: null } });
    }, 60_000);
  });
}

exportSuite('SQLite, embedded', async (sdnextUrl) => {
  const dir = tempDir('results-export-embedded');
  const port = await freePort();
  const env = {
    DATA_DIR: dir.path,
    SDNEXT_URL: sdnextUrl,
    API_KEYS: KEYS,
    RESULTS_MAX_AGE_DAYS: '30',
    RESULTS_KEEP_RATING: '4',
    RESULTS_RETENTION_HOURS: '0',
  };
  const api = new AppProcess('api', { ...env, PORT: String(port) }, port).start();
  await api.waitReady();
  return {
    apis: [api],
    databaseUrl: `sqlite:${join(dir.path, 'lora-manager.sqlite')}`,
    files: new LocalTestFiles(join(dir.path, 'storage')),
    env,
    scheduled: false,
    stop: async () => {
      await api.stop();
      dir.remove();
    },
  };
});

exportSuite('PostgreSQL, S3 storage, two API instances and a worker', async (sdnextUrl) => {
  const dir = tempDir('results-export-scale');
  const redis = createRedisPrefix('results-export');
  const db = await createTestDatabase('results_export');
  const s3 = await new TestS3Server('results-export').start();
  const env = {
    DATA_DIR: dir.path,
    ...s3.env('deploy'),
    DATABASE_URL: db.url,
    REDIS_URL,
    REDIS_PREFIX: redis.prefix,
    SDNEXT_URL: sdnextUrl,
    API_KEYS: KEYS,
    RESULTS_MAX_AGE_DAYS: '30',
    RESULTS_KEEP_RATING: '4',
    // Every 3.6 s; the lease lets one of the two instances run each period.
    RESULTS_RETENTION_HOURS: '0.001',
  };
  expect((await runCli(['migrate'], env)).code).toBe(0);
  const workerPort = await freePort();
  const worker = new AppProcess('worker', { ...env, WORKER_PORT: String(workerPort) }, workerPort).start();
  const apis: AppProcess[] = [];
  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    apis.push(new AppProcess('api', { ...env, PORT: String(port) }, port).start());
  }
  await Promise.all([...apis.map((a) => a.waitReady()), worker.waitReady()]);
  const files = new S3TestFiles(s3, 'deploy');
  return {
    apis,
    databaseUrl: db.url,
    files,
    env,
    scheduled: true,
    stop: async () => {
      await Promise.all([...apis.map((a) => a.stop()), worker.stop()]);
      files.close();
      await s3.stop();
      await redis.clear();
      await db.drop();
      dir.remove();
    },
  };
});
