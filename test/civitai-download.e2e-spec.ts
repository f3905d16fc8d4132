import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { cliDatabase } from './support/cli-library.js';
import { buildSafetensors, type TensorSpec, tinyPng } from './support/corpus-builder.js';
import { FakeCivitai } from './support/fake-civitai.js';
import { ProgressClient } from './support/progress-client.js';
import { createRedisPrefix, REDIS_URL, tempDir } from './support/test-services.js';

interface Download {
  id: string;
  status: string;
  relativePath: string;
  bytesDone: number;
  bytesTotal: number | null;
  bytesFetched: number;
  adapterId: string | null;
  error: string | null;
}

/** A LoRA of about `mib` MiB (float32 tensor) with its own bytes. */
const lora = (seed: string, mib: number) =>
  buildSafetensors({ seed, tensors: [{ name: 'w', dtype: 'F32', shape: [mib * 256 * 1024] }] as TensorSpec[] });

const BIG = lora('big', 3);
const SMALL = lora('small', 1);
const OTHER = lora('other', 1);
const PREVIEW = tinyPng(4, 4, [10, 200, 30]);
const EXAMPLE = tinyPng(8, 8, [200, 10, 30]);

const modes = ['sqlite', 'postgres-scale-out'] as const;

for (const mode of modes) {
  describe(`Civitai downloads on ${mode}`, () => {
    const dir = tempDir(`civitai-download-${mode}`);
    const root = join(dir.path, 'loras');
    const fake = new FakeCivitai();
    const redis = mode === 'sqlite' ? null : createRedisPrefix('civitai-dl');
    let env: Record<string, string>;
    let dropDb: (() => Promise<void>) | undefined;
    let api: AppProcess | undefined;
    let worker: AppProcess | undefined;

    const http = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${api!.baseUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown> };
    };
    const start = (body: Record<string, unknown>) => http('POST', '/api/v1/civitai/downloads', body);
    const waitEnded = async (id: string, timeoutMs = 60_000): Promise<Download> => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const d = (await http('GET', `/api/v1/civitai/downloads/${id}`)).body as unknown as Download;
        if (d.status !== 'queued' && d.status !== 'running') return d;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`download ${id} did not end`);
    };
    const waitBytes = async (id: string, atLeast: number): Promise<Download> => {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const d = (await http('GET', `/api/v1/civitai/downloads/${id}`)).body as unknown as Download;
        if (d.bytesDone >= atLeast) return d;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`download ${id} did not reach ${atLeast} bytes`);
    };
    /** Files in a folder of the root, hidden partial files included. */
    const filesIn = (folder: string) => (existsSync(join(root, folder)) ? readdirSync(join(root, folder)).sort() : []);
    const startApp = async () => {
      const apiPort = await freePort();
      api = new AppProcess('api', { ...env, PORT: String(apiPort) }, apiPort).start();
      if (mode !== 'sqlite') {
        const workerPort = await freePort();
        worker = new AppProcess('worker', { ...env, WORKER_PORT: String(workerPort) }, workerPort).start();
        await worker.waitReady();
      }
      await api.waitReady();
    };

    beforeAll(async () => {
      mkdirSync(root, { recursive: true });
      await fake.start();
      fake.addAsset('/assets/preview.png', PREVIEW, 'image/png');
      fake.addAsset('/assets/example.png', EXAMPLE, 'image/png');
      const file = (name: string, built: typeof BIG, extra: Record<string, unknown> = {}) => ({
        name,
        primary: true,
        sha256: built.sha256,
        sizeKB: built.size / 1024,
        ...extra,
      });
      fake.addModel({
        id: 500,
        name: 'Ink Wash',
        versions: [
          {
            id: 5001,
            name: 'v2',
            baseModel: 'Illustrious',
            trainedWords: ['inkwash style'],
            files: [file('ink_wash_v2.safetensors', BIG)],
            images: [
              { url: `${fake.url}/assets/preview.png`, nsfwLevel: 1, meta: { prompt: 'ink fox', seed: 7 } },
              { url: `${fake.url}/assets/example.png`, nsfwLevel: 4, meta: { prompt: 'ink cat', sampler: 'Euler a' } },
            ],
          },
          { id: 5002, files: [file('locked.safetensors', SMALL)] },
          { id: 5003, files: [file('bent.safetensors', SMALL)] },
          { id: 5004, files: [file('elsewhere.safetensors', SMALL)] },
          { id: 5005, files: [file('hung.safetensors', SMALL)] },
          { id: 5006, files: [{ name: 'huge.safetensors', primary: true, sha256: SMALL.sha256, sizeKB: 2 ** 40 }] },
          { id: 5007, files: [file('slow.safetensors', BIG)] },
          { id: 5008, files: [file('cancelled.safetensors', OTHER)] },
        ],
        files: {
          5001: { name: 'ink_wash_v2.safetensors', bytes: BIG.bytes },
          5002: { name: 'locked.safetensors', bytes: SMALL.bytes, needsKey: true },
          5003: { name: 'bent.safetensors', bytes: SMALL.bytes },
          5004: { name: 'elsewhere.safetensors', bytes: SMALL.bytes },
          5005: { name: 'hung.safetensors', bytes: SMALL.bytes },
          5006: { name: 'huge.safetensors', bytes: SMALL.bytes },
          5007: { name: 'slow.safetensors', bytes: BIG.bytes },
          5008: { name: 'cancelled.safetensors', bytes: OTHER.bytes },
        },
      });
      const data = join(dir.path, 'data');
      if (mode === 'sqlite') {
        env = (await cliDatabase('sqlite', 'civitai_download', data)).env;
      } else {
        const db = await cliDatabase('postgres', 'civitai_download', data);
        dropDb = db.drop;
        env = { ...db.env, REDIS_URL, REDIS_PREFIX: redis!.prefix };
      }
      env = {
        ...env,
        LORA_ROOTS: root,
        CIVITAI_URL: fake.url,
        CIVITAI_CACHE_HOURS: '0',
        CIVITAI_RETRIES: '3',
        CIVITAI_DOWNLOAD_HOSTS: 'b2.civitai.com',
        CIVITAI_DOWNLOAD_MIN_FREE_MB: '1',
        CIVITAI_DOWNLOAD_STALL_SECONDS: '1',
      };
      if (mode !== 'sqlite') expect((await runCli(['migrate'], env)).code).toBe(0);
      await startApp();
    }, 90_000);

    afterAll(async () => {
      await Promise.all([api?.stop(), worker?.stop()]);
      await fake.stop();
      await redis?.clear();
      await dropDb?.();
      dir.remove();
    });

    it('should download a version by its model URL, verify it, write its sidecars, import it, and report byte progress', async () => {
      const client = new ProgressClient(api!.baseUrl);
      try {
        await client.connected();
        await client.subscribe({ topic: 'downloads' });
        const started = await start({
          reference: 'https://civitai.com/models/500/ink-wash?modelVersionId=5001',
          folder: 'styles/ink',
        });
        expect(started).toMatchObject({ status: 202, body: { status: 'queued', versionId: 5001, modelId: 500 } });
        const id = started.body.id as string;
        const done = await waitEnded(id);
        expect(done).toMatchObject({
          status: 'completed',
          relativePath: 'styles/ink/ink_wash_v2.safetensors',
          bytesDone: BIG.size,
          bytesTotal: BIG.size,
          bytesFetched: BIG.size,
          error: null,
        });
        expect(readFileSync(join(root, 'styles/ink/ink_wash_v2.safetensors')).equals(BIG.bytes)).toBe(true);
        // Sidecars beside it, the partial file gone.
        expect(filesIn('styles/ink')).toEqual([
          'ink_wash_v2.civitai.info',
          'ink_wash_v2.preview.png',
          'ink_wash_v2.safetensors',
        ]);
        expect(readFileSync(join(root, 'styles/ink/ink_wash_v2.preview.png')).equals(PREVIEW)).toBe(true);
        // Imported at once, with the version's facts from the .civitai.info.
        const adapter = await http('GET', `/api/v1/adapters/${done.adapterId}`);
        expect(adapter).toMatchObject({
          status: 200,
          body: {
            civitaiModelId: 500,
            civitaiVersionId: 5001,
            baseModel: 'Illustrious',
            trainedWords: ['inkwash style'],
          },
        });
        const ended = await client.waitFor((e) => e.event === 'download.completed' && e.payload.jobId === id);
        expect(ended.payload).toMatchObject({ status: 'completed', adapterId: done.adapterId });
        const progress = client.ofJob(id).filter((e) => e.event === 'download.progress');
        expect(progress.length).toBeGreaterThan(0);
        expect(progress.at(-1)!.payload).toMatchObject({ bytesDone: BIG.size, bytesTotal: BIG.size });
        // Listed.
        const list = await http('GET', '/api/v1/civitai/downloads');
        expect((list.body as unknown as Download[]).map((d) => d.id)).toContain(id);
      } finally {
        client.close();
      }
    }, 90_000);

    it('should refuse a second download to the same name with 409, or take the next free name when asked', async () => {
      const again = await start({ reference: '5001', folder: 'styles/ink' });
      expect(again).toMatchObject({ status: 409, body: { code: 'file_exists' } });
      expect(String(again.body.message)).toContain('styles/ink/ink_wash_v2.safetensors');
      const renamed = await start({ reference: '5001', folder: 'styles/ink', onCollision: 'rename' });
      expect(renamed).toMatchObject({ status: 202, body: { relativePath: 'styles/ink/ink_wash_v2-1.safetensors' } });
      expect(await waitEnded(renamed.body.id as string)).toMatchObject({ status: 'completed' });
      // The existing sidecars were not overwritten; the renamed file got its own.
      expect(filesIn('styles/ink')).toEqual(
        expect.arrayContaining(['ink_wash_v2-1.safetensors', 'ink_wash_v2-1.civitai.info']),
      );
    }, 60_000);

    it('should resume a download cut mid-file with a Range request, fetching less than the file again', async () => {
      const cutAt = 1024 * 1024;
      fake.fileFault = { kind: 'cut', afterBytes: cutAt, times: 1 };
      const started = await start({ reference: 'https://civitai.com/api/download/models/5007', folder: 'cut' });
      expect(started.status).toBe(202);
      const done = await waitEnded(started.body.id as string);
      expect(done).toMatchObject({ status: 'completed', bytesDone: BIG.size });
      // The second request asked for the rest only: at most the cut-off bytes were fetched twice.
      expect(done.bytesFetched).toBeLessThan(2 * BIG.size);
      expect(done.bytesFetched - BIG.size).toBeLessThanOrEqual(cutAt);
      const ranges = fake.requests.filter((r) => r.endpoint === 'file' && r.path.includes('/5007/'));
      expect(ranges.at(-1)!.range).toMatch(/^bytes=\d+-$/);
      expect(Number(/^bytes=(\d+)-$/.exec(ranges.at(-1)!.range!)![1])).toBeGreaterThan(0);
      expect(readFileSync(join(root, 'cut/slow.safetensors')).equals(BIG.bytes)).toBe(true);
      expect(filesIn('cut').filter((f) => f.endsWith('.part'))).toEqual([]);
    }, 60_000);

    it('should resume from the partial file after the process that downloaded it was killed', async () => {
      fake.fileBytesPerSecond = 1024 * 1024;
      try {
        const started = await start({ reference: '5007', folder: 'restart' });
        const id = started.body.id as string;
        const before = await waitBytes(id, 512 * 1024);
        if (mode === 'sqlite') await api!.kill9();
        else await worker!.kill9();
        expect(filesIn('restart').some((f) => f.endsWith('.part'))).toBe(true);
        fake.fileBytesPerSecond = undefined;
        if (mode === 'sqlite') {
          await startApp();
        } else {
          const workerPort = await freePort();
          worker = new AppProcess('worker', { ...env, WORKER_PORT: String(workerPort) }, workerPort).start();
          await worker.waitReady();
        }
        const done = await waitEnded(id, 90_000);
        expect(done).toMatchObject({ status: 'completed', bytesDone: BIG.size });
        expect(before.bytesDone).toBeGreaterThan(0);
        const last = fake.requests.filter((r) => r.endpoint === 'file' && r.path.includes('/5007/')).at(-1)!;
        expect(Number(/^bytes=(\d+)-$/.exec(last.range ?? '')?.[1] ?? 0)).toBeGreaterThanOrEqual(before.bytesDone);
        expect(readFileSync(join(root, 'restart/slow.safetensors')).equals(BIG.bytes)).toBe(true);
        expect(filesIn('restart').filter((f) => f.endsWith('.part'))).toEqual([]);
      } finally {
        fake.fileBytesPerSecond = undefined;
      }
    }, 120_000);

    it('should discard a file whose bytes do not have the declared SHA-256, naming both hashes', async () => {
      fake.fileFault = { kind: 'corrupt', times: 1 };
      const started = await start({ reference: '5003', folder: 'bad' });
      const done = await waitEnded(started.body.id as string);
      expect(done.status).toBe('failed');
      expect(done.error).toContain(SMALL.sha256.toUpperCase());
      expect(done.error).toMatch(/SHA-256 [0-9A-F]{64} is not the/);
      expect(filesIn('bad')).toEqual([]);
    }, 60_000);

    it('should refuse a redirect to a host outside CIVITAI_DOWNLOAD_HOSTS and fetch nothing from it', async () => {
      const port = new URL(fake.url).port;
      fake.fileHost = `http://localhost:${port}`;
      try {
        const files = fake.count('file');
        const started = await start({ reference: '5004', folder: 'foreign' });
        const done = await waitEnded(started.body.id as string);
        expect(done.status).toBe('failed');
        expect(done.error).toContain(`redirected to localhost:${port}, which is not in CIVITAI_DOWNLOAD_HOSTS`);
        expect(fake.count('file')).toBe(files);
        expect(filesIn('foreign')).toEqual([]);
      } finally {
        fake.fileHost = undefined;
      }
    }, 60_000);

    it('should fail a version that needs a key with "needs CIVITAI_API_KEY"', async () => {
      const started = await start({ reference: '5002', folder: 'locked' });
      const done = await waitEnded(started.body.id as string);
      expect(done.status).toBe('failed');
      expect(done.error).toContain('needs CIVITAI_API_KEY');
      expect(filesIn('locked')).toEqual([]);
    }, 60_000);

    it('should say a hanging file host sent nothing in time, and leave no partial file', async () => {
      fake.fileFault = { kind: 'stall', afterBytes: 1000 };
      try {
        const started = await start({ reference: '5005', folder: 'hang' });
        const done = await waitEnded(started.body.id as string, 90_000);
        expect(done.status).toBe('failed');
        expect(done.error).toContain('sent nothing for 1 s (CIVITAI_DOWNLOAD_STALL_SECONDS)');
        expect(filesIn('hang')).toEqual([]);
      } finally {
        fake.fileFault = null;
      }
    }, 120_000);

    it('should refuse a download larger than the free space with a clear 409 before fetching anything', async () => {
      const files = fake.count('file');
      const started = await start({ reference: '5006', folder: 'full' });
      expect(started).toMatchObject({ status: 409, body: { code: 'insufficient_disk_space' } });
      expect(String(started.body.message)).toMatch(
        /needs \d+\.\d MiB and 1 MiB must stay free \(CIVITAI_DOWNLOAD_MIN_FREE_MB\), but only [\d.]+ MiB are free/,
      );
      expect(fake.count('file')).toBe(files);
    });

    it('should keep the target inside the root and answer bad references with 400', async () => {
      expect(await start({ reference: '5001', folder: '../outside' })).toMatchObject({
        status: 400,
        body: { code: 'path_outside_roots' },
      });
      expect(await start({ reference: 'https://example.com/nothing' })).toMatchObject({ status: 400 });
      expect(await start({ reference: '5001', rootId: 'ffffffffffff' })).toMatchObject({
        status: 400,
        body: { code: 'unknown_root' },
      });
      expect(await start({ reference: '999999' })).toMatchObject({ status: 404 });
    });

    it('should cancel a running download and remove its partial file', async () => {
      fake.fileBytesPerSecond = 256 * 1024;
      try {
        const started = await start({ reference: '5008', folder: 'cancel' });
        const id = started.body.id as string;
        await waitBytes(id, 64 * 1024);
        const cancelled = await http('POST', `/api/v1/civitai/downloads/${id}/cancel`);
        expect(cancelled.status).toBe(200);
        expect(await waitEnded(id)).toMatchObject({ status: 'cancelled' });
        expect(filesIn('cancel')).toEqual([]);
      } finally {
        fake.fileBytesPerSecond = undefined;
      }
    }, 60_000);

    it('should store a linked adapter’s example images with their metadata and NSFW level, and serve them', async () => {
      const downloads = (await http('GET', '/api/v1/civitai/downloads')).body as unknown as Download[];
      const adapterId = downloads.find((d) => d.relativePath === 'styles/ink/ink_wash_v2.safetensors')!.adapterId!;
      expect(await http('GET', `/api/v1/civitai/adapters/${adapterId}/examples`)).toMatchObject({
        status: 200,
        body: { images: [], fetchedAt: null },
      });
      const started = await http('POST', `/api/v1/civitai/adapters/${adapterId}/examples`);
      expect(started.status).toBe(202);
      const jobId = started.body.jobId as string;
      const deadline = Date.now() + 30_000;
      let job = await http('GET', `/api/v1/jobs/civitai-examples/${jobId}`);
      // On BullMQ the status can read `completed` a moment before the job's return value does.
      while (job.body.status !== 'failed' && (job.body.result ?? null) === null && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        job = await http('GET', `/api/v1/jobs/civitai-examples/${jobId}`);
      }
      expect(job.body).toMatchObject({ status: 'completed', result: { stored: 2, skipped: 0 } });
      const list = await http('GET', `/api/v1/civitai/adapters/${adapterId}/examples`);
      expect(list.body).toMatchObject({
        versionId: 5001,
        images: [
          { nsfwLevel: 1, meta: { prompt: 'ink fox', seed: 7 }, contentType: 'image/png' },
          { nsfwLevel: 4, meta: { prompt: 'ink cat', sampler: 'Euler a' } },
        ],
      });
      const images = list.body.images as { url: string }[];
      // Served from storage: the fake's images are not asked again.
      const assets = fake.requests.filter((r) => r.path.startsWith('/assets/')).length;
      const res = await fetch(`${api!.baseUrl}${images[1].url}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await res.arrayBuffer()).equals(EXAMPLE)).toBe(true);
      expect(fake.requests.filter((r) => r.path.startsWith('/assets/')).length).toBe(assets);
      expect((await http('GET', `/api/v1/civitai/adapters/${adapterId}/examples/1`)).status).toBe(404);
    }, 60_000);
  });
}
