import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ListObjectsCommand, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { cliDatabase, importJson } from './support/cli-library.js';
import { crc32, tinyPngDataUrl, writeAdapter } from './support/corpus-builder.js';
import { FakeSdNext } from './support/fake-sdnext.js';
import { tinyPng } from './support/images.js';
import { png, tEXt } from './support/recipe-images.js';
import { TestS3Server } from './support/s3-server.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { createRedisPrefix, createTestDatabase, REDIS_URL, tempDir, waitFor } from './support/test-services.js';

const KEY = 'editor-key-storage-thumbs-01';
const KEYS = `${KEY}:editor`;

/** A real photo-sized PNG: 1200 × 800. */
const bigPng = (colour: string): Promise<Buffer> =>
  sharp({ create: { width: 1200, height: 800, channels: 3, background: colour } })
    .png()
    .toBuffer();

/** A valid PNG whose header claims 50,000 × 50,000 pixels (a decompression bomb: 2.5 gigapixels). */
function bombPng(): Buffer {
  const png = Buffer.from(tinyPng());
  png.writeUInt32BE(50_000, 16);
  png.writeUInt32BE(50_000, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

interface Fetched {
  status: number;
  headers: Headers;
  bytes: Buffer;
  json: Record<string, unknown>;
}

async function get(base: string, path: string, headers: Record<string, string> = {}): Promise<Fetched> {
  const res = await fetch(`${base}/api/v1${path}`, { headers: { 'x-api-key': KEY, ...headers } });
  const bytes = Buffer.from(await res.arrayBuffer());
  const json = res.headers.get('content-type')?.includes('json') ? (JSON.parse(bytes.toString()) as never) : {};
  return { status: res.status, headers: res.headers, bytes, json };
}

async function post(base: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}/api/v1${path}`, {
    method: 'POST',
    headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBeLessThan(300);
  return (await res.json()) as Record<string, unknown>;
}

async function settle(base: string, id: string, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await get(base, `/generation/jobs/${id}`)).json;
    if (['succeeded', 'failed', 'cancelled'].includes(job.status as string)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${String(job.status)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('thumbnails of adapter previews and results (SQLite, embedded, local storage)', () => {
  const dir = tempDir('thumbnails');
  const root = join(dir.path, 'loras');
  const fake = new FakeSdNext({ flavour: 'sdnext', stepMs: 2, imageFormat: 'png' });
  let api: AppProcess;
  let base: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    for (const name of ['photo', 'corrupt', 'truncated', 'bomb', 'inside']) {
      await writeAdapter(root, {
        relPath: `${name}.safetensors`,
        safetensors:
          name === 'inside' ? { seed: name, metadata: { 'modelspec.thumbnail': tinyPngDataUrl() } } : { seed: name },
      });
    }
    const photo = await bigPng('#c33');
    await writeFile(join(root, 'photo.png'), photo);
    await writeFile(join(root, 'corrupt.png'), Buffer.from('this is not an image at all'));
    await writeFile(join(root, 'truncated.png'), photo.subarray(0, Math.floor(photo.length / 2)));
    await writeFile(join(root, 'bomb.png'), bombPng());
    const db = await cliDatabase('sqlite', 'thumbnails', join(dir.path, 'data'));
    const env = { ...db.env, LORA_ROOTS: root, API_KEYS: KEYS, SDNEXT_URL: await fake.start() };
    expect((await importJson(env)).counts).toMatchObject({ added: 5 });
    const port = await freePort();
    api = new AppProcess('api', { ...env, PORT: String(port) }, port).start();
    await api.waitReady();
    base = api.baseUrl;
    const list = (await get(base, '/adapters?limit=50')).json.items as { id: string; relativePath: string }[];
    for (const a of list) ids[a.relativePath.replace('.safetensors', '')] = a.id;
  }, 120_000);

  afterAll(async () => {
    await api?.stop();
    await fake.stop();
    dir.remove();
  });

  it('should serve a WebP preview thumbnail at 256 and 768 px on the long side, then 304 on its ETag', async () => {
    for (const size of [256, 768]) {
      const first = await get(base, `/adapters/${ids.photo}/preview?size=${size}`);
      expect(first.status).toBe(200);
      expect(first.headers.get('content-type')).toBe('image/webp');
      const meta = await sharp(first.bytes).metadata();
      expect({ format: meta.format, width: meta.width, height: meta.height }).toEqual({
        format: 'webp',
        width: size,
        height: Math.round((size * 800) / 1200),
      });
      const etag = first.headers.get('etag')!;
      expect(etag).toMatch(/^"[0-9a-f]{40}"$/);
      const again = await get(base, `/adapters/${ids.photo}/preview?size=${size}`, { 'if-none-match': etag });
      expect(again.status).toBe(304);
      expect(again.bytes.length).toBe(0);
    }
    // Without size, the file itself as before.
    const original = await get(base, `/adapters/${ids.photo}/preview`);
    expect(original.headers.get('content-type')).toBe('image/png');
  });

  it('should make a new thumbnail when the preview file changes', async () => {
    const before = await get(base, `/adapters/${ids.photo}/preview?size=256`);
    await writeFile(join(root, 'photo.png'), await bigPng('#33c'));
    const after = await get(base, `/adapters/${ids.photo}/preview?size=256`, {
      'if-none-match': before.headers.get('etag')!,
    });
    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).not.toBe(before.headers.get('etag'));
    const { dominant } = await sharp(after.bytes).stats();
    expect(dominant.b).toBeGreaterThan(dominant.r);
  });

  it('should thumbnail the image embedded in the LoRA header (never enlarged)', async () => {
    const res = await get(base, `/adapters/${ids.inside}/preview?size=768`);
    expect(res.status).toBe(200);
    const source = await sharp(Buffer.from(tinyPngDataUrl().split(',')[1], 'base64')).metadata();
    expect(await sharp(res.bytes).metadata()).toMatchObject({
      format: 'webp',
      width: source.width,
      height: source.height,
    });
  });

  it('should answer 422 with a code for corrupt, truncated and decompression-bomb previews, and keep serving', async () => {
    const answers = await Promise.all(
      ['corrupt', 'truncated', 'bomb'].map((name) => get(base, `/adapters/${ids[name]}/preview?size=256`)),
    );
    expect(answers.map((a) => [a.status, a.json.code])).toEqual([
      [422, 'image_unreadable'],
      [422, 'image_unreadable'],
      [422, 'image_too_large'],
    ]);
    expect(String(answers[2].json.message)).toContain('THUMBNAIL_MAX_PIXELS');
    expect((await get(base, `/adapters/${ids.photo}/preview?size=256`)).status).toBe(200);
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
  });

  it('should refuse a size that is not offered, naming the field', async () => {
    for (const size of ['100', 'big', '256.0']) {
      const res = await get(base, `/adapters/${ids.photo}/preview?size=${size}`);
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.json.details)).toContain('size');
    }
  });

  it('should serve result thumbnails with year-long immutable caching, many at once', async () => {
    const job = await post(base, '/generation/queue-generation', { prompt: 'a fox', steps: 2, batch_size: 2 });
    expect((await settle(base, job.id as string)).status).toBe('succeeded');
    const items = (await get(base, `/results?limit=10`)).json.items as { id: string; jobId: string }[];
    const mine = items.filter((r) => r.jobId === job.id);
    expect(mine).toHaveLength(2);
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => get(base, `/results/${mine[i % 2].id}/thumbnail?size=256`)),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(200));
    expect(answers[0].headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    const again = await get(base, `/results/${mine[0].id}/thumbnail`, {
      'if-none-match': answers[0].headers.get('etag')!,
    });
    expect(again.status).toBe(304);
    expect((await get(base, `/results/00000000-0000-4000-8000-000000000000/thumbnail`)).status).toBe(404);
  });
});

describe('a full disk under local storage (SQLite, embedded)', () => {
  const dir = tempDir('disk-full');
  const fake = new FakeSdNext({ flavour: 'sdnext', stepMs: 2, imageFormat: 'png' });
  let api: AppProcess;
  let base: string;

  beforeAll(async () => {
    const port = await freePort();
    // More must stay free than any disk has: every write finds the disk "full", as a full one would be.
    api = new AppProcess(
      'api',
      {
        DATA_DIR: dir.path,
        PORT: String(port),
        API_KEYS: KEYS,
        SDNEXT_URL: await fake.start(),
        STORAGE_MIN_FREE_MB: '1000000000',
        STORAGE_WRITE_RETRY_SECONDS: '1',
      },
      port,
    ).start();
    await api.waitReady('/health/ready', 60_000);
    base = api.baseUrl;
  }, 90_000);

  afterAll(async () => {
    await api?.stop();
    await fake.stop();
    dir.remove();
  });

  it('should refuse an upload with 503 storage_full naming the setting, and keep nothing of it', async () => {
    const res = await fetch(`${base}/api/v1/recipes/from-image?name=Full`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'content-type': 'image/png' },
      body: png(8, 8, [tEXt('parameters', 'a lighthouse\nSteps: 4, Seed: 1, Size: 8x8')]),
    });
    const body = (await res.json()) as { code: string; message: string };
    expect([res.status, body.code]).toEqual([503, 'storage_full']);
    expect(body.message).toContain('STORAGE_MIN_FREE_MB');
    expect((await get(base, '/recipes')).json.total).toBe(0);
    // Reading still works: the service stays ready while its disk is full.
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
  });

  it('should fail a generation whose images cannot be written, saying the disk is full, after its retries', async () => {
    const job = await post(base, '/generation/queue-generation', { prompt: 'no room for this', steps: 2 });
    const settled = await settle(base, job.id as string, 60_000);
    expect(settled.status).toBe('failed');
    expect(settled.error).toContain('File storage is full');
    expect((await get(base, '/results')).json.items).toEqual([]);
  }, 90_000);
});

describe('S3 storage shared by the API and a worker (PostgreSQL, scale-out)', () => {
  const s3 = new TestS3Server('lora-e2e');
  const proxy = { current: undefined as TcpProxy | undefined };
  const fake = new FakeSdNext({ flavour: 'sdnext', stepMs: 2, imageFormat: 'png' });
  const apiDir = tempDir('s3-api');
  const workerDir = tempDir('s3-worker');
  const redis = createRedisPrefix('s3store');
  let drop: (() => Promise<void>) | undefined;
  let api: AppProcess;
  let worker: AppProcess;
  let workerEnv: Record<string, string>;
  let base: string;
  let s3Client: S3Client;

  const keysUnder = async (prefix: string): Promise<string[]> => {
    const page = await s3Client.send(new ListObjectsCommand({ Bucket: s3.bucket, Prefix: prefix }));
    return (page.Contents ?? []).map((o) => o.Key!);
  };

  beforeAll(async () => {
    await s3.start();
    const tcp = new TcpProxy('127.0.0.1', s3.port);
    proxy.current = tcp;
    const proxyPort = await tcp.start();
    s3Client = new S3Client({
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const db = await createTestDatabase('s3store');
    drop = db.drop;
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL,
      REDIS_PREFIX: redis.prefix,
      SDNEXT_URL: await fake.start(),
      API_KEYS: KEYS,
      STORAGE_WRITE_RETRY_SECONDS: '60',
      ...s3.env('deploy-1', proxyPort),
    };
    // Each process has its own DATA_DIR: the only files they share are the bucket's.
    expect((await runCli(['migrate'], { ...env, DATA_DIR: apiDir.path })).code).toBe(0);
    const workerPort = await freePort();
    workerEnv = { ...env, DATA_DIR: workerDir.path };
    worker = new AppProcess('worker', { ...workerEnv, WORKER_PORT: String(workerPort) }, workerPort).start();
    const port = await freePort();
    api = new AppProcess('api', { ...env, DATA_DIR: apiDir.path, PORT: String(port) }, port).start();
    await Promise.all([api.waitReady(), worker.waitReady()]);
    base = api.baseUrl;
  }, 120_000);

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await proxy.current?.stop();
    s3Client?.destroy();
    await s3.stop();
    await fake.stop();
    await redis.clear();
    await drop?.();
    apiDir.remove();
    workerDir.remove();
  });

  it('should list and serve an image the worker wrote to the bucket, and cache its thumbnail there', async () => {
    const job = await post(base, '/generation/queue-generation', { prompt: 'a fox in s3', steps: 2 });
    expect((await settle(base, job.id as string)).status).toBe('succeeded');
    const [result] = (await get(base, `/results?limit=5`)).json.items as {
      id: string;
      jobId: string;
      storageKey: string;
      bytes: number;
    }[];
    expect(result.jobId).toBe(job.id);
    expect(await keysUnder(`deploy-1/${result.storageKey}`)).toEqual([`deploy-1/${result.storageKey}`]);
    const image = await get(base, `/results/${result.id}/image`);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(image.bytes.length).toBe(result.bytes);
    const generationImage = await get(base, `/generation/jobs/${job.id as string}/images/0`);
    expect(generationImage.bytes.equals(image.bytes)).toBe(true);

    const thumb = await get(base, `/results/${result.id}/thumbnail?size=256`);
    expect(thumb.status).toBe(200);
    expect(await keysUnder('deploy-1/thumbnails/256/')).toHaveLength(1);
  });

  it('should answer 503 storage_unavailable while S3 is down, and keep a generation made meanwhile', async () => {
    const [result] = (await get(base, `/results?limit=1`)).json.items as { id: string }[];
    await proxy.current!.cut();
    try {
      const image = await get(base, `/results/${result.id}/image`);
      expect([image.status, image.json.code]).toEqual([503, 'storage_unavailable']);
      const thumb = await get(base, `/results/${result.id}/thumbnail?size=768`);
      expect([thumb.status, thumb.json.code]).toEqual([503, 'storage_unavailable']);
      expect((await fetch(`${base}/health/ready`)).status).toBe(503);
      // The worker holds the images and retries the write until S3 is back.
      const job = await post(base, '/generation/queue-generation', { prompt: 'made while s3 was down', steps: 2 });
      await new Promise((r) => setTimeout(r, 3000));
      expect((await get(base, `/generation/jobs/${job.id as string}`)).json.status).toBe('running');
      await proxy.current!.restore();
      expect((await settle(base, job.id as string, 60_000)).status).toBe('succeeded');
      const listed = (await get(base, `/results?q=${encodeURIComponent('made while s3 was down')}`)).json.items as {
        id: string;
      }[];
      expect(listed).toHaveLength(1);
      expect((await get(base, `/results/${listed[0].id}/image`)).status).toBe(200);
    } finally {
      await proxy.current!.restore();
    }
  }, 90_000);

  it('should let the next generation use SD.Next while the one before it waits for the storage', async () => {
    await proxy.current!.cut();
    try {
      const first = (await post(base, '/generation/queue-generation', { prompt: 'stored late', steps: 2 }))
        .id as string;
      const deadline = Date.now() + 30_000;
      while (!worker.text.includes(`of generation ${first} not stored yet`) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(worker.text).toContain(`of generation ${first} not stored yet`);
      const sent = fake.generations.length;
      const second = (await post(base, '/generation/queue-generation', { prompt: 'made meanwhile', steps: 2 }))
        .id as string;
      // SD.Next is free once it has answered: the second job gets it although the first still holds its images.
      while (fake.generations.length === sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(fake.generations.length).toBe(sent + 1);
      expect((await get(base, `/generation/jobs/${first}`)).json.status).toBe('running');
      await proxy.current!.restore();
      expect((await settle(base, first, 60_000)).status).toBe('succeeded');
      expect((await settle(base, second, 60_000)).status).toBe('succeeded');
    } finally {
      await proxy.current!.restore();
    }
  }, 90_000);

  it('should keep a generation whose worker dies while S3 is down, and store it when a worker runs the job again', async () => {
    await proxy.current!.cut();
    try {
      const job = await post(base, '/generation/queue-generation', { prompt: 'made before the worker died', steps: 2 });
      const jobId = job.id as string;
      // SD.Next has answered and the worker is retrying the write to S3 when it is killed.
      const deadline = Date.now() + 30_000;
      while (!worker.text.includes(`of generation ${jobId} not stored yet`) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(worker.text).toContain(`of generation ${jobId} not stored yet`);
      const sent = fake.generations.length;
      await worker.kill9();
      await proxy.current!.restore();
      const port = await freePort();
      worker = new AppProcess('worker', { ...workerEnv, WORKER_PORT: String(port) }, port).start();
      await worker.waitReady();

      const settled = await settle(base, jobId, 90_000);
      expect(settled.status).toBe('succeeded');
      expect(fake.generations.length).toBe(sent); // the images came from the spool, not from a second generation
      expect(worker.text).toContain(`Generation ${jobId}: storing the images SD.Next sent to an earlier run`);
      const listed = (await get(base, `/results?q=${encodeURIComponent('made before the worker died')}`)).json
        .items as { id: string }[];
      expect(listed).toHaveLength(1);
      expect((await get(base, `/results/${listed[0].id}/image`)).status).toBe(200);
      // The spooled answer is removed just after the row ends (a crash in between keeps it, never loses it).
      await waitFor('the spool emptied', () => readdirSync(join(workerDir.path, 'spool', 'generations')).length === 0);
    } finally {
      await proxy.current!.restore();
    }
  }, 150_000);

  it('should retry a job whose images S3 keeps refusing without generating again, then fail naming their folder', async () => {
    await worker.stop();
    const port = await freePort();
    worker = new AppProcess(
      'worker',
      { ...workerEnv, STORAGE_WRITE_RETRY_SECONDS: '1', WORKER_PORT: String(port) },
      port,
    ).start();
    await worker.waitReady();
    await proxy.current!.cut();
    try {
      const sent = fake.generations.length;
      const job = await post(base, '/generation/queue-generation', { prompt: 'never stored', steps: 2 });
      const jobId = job.id as string;
      const settled = await settle(base, jobId, 60_000);
      expect(settled.status).toBe('failed');
      const folder = join(workerDir.path, 'spool', 'generations', jobId);
      expect(settled.error).toContain(`SD.Next's images are kept in ${folder}`);
      expect(fake.generations.length).toBe(sent + 1);
      expect(readdirSync(folder).sort()).toEqual(['0.bin', 'answer.json']);
    } finally {
      await proxy.current!.restore();
    }
  }, 120_000);
});
