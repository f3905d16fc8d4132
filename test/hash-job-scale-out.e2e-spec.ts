import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { importJson } from './support/cli-library.js';
import { writeAdapter } from './support/corpus-builder.js';
import { ProgressClient } from './support/progress-client.js';
import { createRedisPrefix, createTestDatabase, REDIS_URL, tempDir } from './support/test-services.js';

describe('the background hash job in scale-out mode (PostgreSQL + Redis + a worker)', () => {
  const dir = tempDir('hash-scale');
  const redis = createRedisPrefix('hash-scale');
  const root = join(dir.path, 'loras');
  let dropDb: (() => Promise<void>) | undefined;
  let api: AppProcess | undefined;
  let worker: AppProcess | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    for (const n of [1, 2, 3])
      await writeAdapter(root, { relPath: `x/${n}.safetensors`, safetensors: { seed: `x${n}` } });
    const db = await createTestDatabase('hash_scale');
    dropDb = db.drop;
    env = {
      DATA_DIR: join(dir.path, 'data'),
      DATABASE_URL: db.url,
      REDIS_URL,
      REDIS_PREFIX: redis.prefix,
      LORA_ROOTS: root,
    };
    expect((await runCli(['migrate'], env)).code).toBe(0);
    const workerPort = await freePort();
    worker = new AppProcess('worker', { ...env, WORKER_PORT: String(workerPort) }, workerPort).start();
    const apiPort = await freePort();
    api = new AppProcess('api', { ...env, PORT: String(apiPort) }, apiPort).start();
    await Promise.all([worker.waitReady(), api.waitReady()]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await redis.clear();
    await dropDb?.();
    dir.remove();
  });

  it('should hash on a worker what a CLI import left, and push the events to a client of the API', async () => {
    const client = new ProgressClient(api!.baseUrl);
    try {
      await client.connected();
      await client.subscribe({ topic: 'hashes' });
      const summary = (await importJson(env)) as Awaited<ReturnType<typeof importJson>> & { hashRunId: string };
      expect(summary.hashRunId).toEqual(expect.any(String));
      const done = await client.waitFor(
        (e) => e.event === 'hash.completed' && e.payload.jobId === summary.hashRunId,
        60_000,
      );
      expect(done.payload).toMatchObject({ status: 'completed', counts: { total: 3, hashed: 3, failed: 0 } });
      const status = (await (await fetch(`${api!.baseUrl}/api/v1/hashes`)).json()) as Record<string, unknown>;
      expect(status).toMatchObject({ adapters: 3, verified: 3, unverified: 0, lastRunId: summary.hashRunId });
    } finally {
      client.close();
    }
  }, 90_000);
});
