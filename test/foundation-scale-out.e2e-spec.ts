import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { ProgressClient } from './support/progress-client.js';
import { createRedisPrefix, createTestDatabase, REDIS_URL, tempDir } from './support/test-services.js';

const json = { 'content-type': 'application/json' };

describe('API and worker in scale-out mode (PostgreSQL + Redis + BullMQ)', () => {
  const dir = tempDir('scale');
  const redis = createRedisPrefix('scale');
  let dropDb: () => Promise<void>;
  let api: AppProcess;
  let worker: AppProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    const db = await createTestDatabase('scale');
    dropDb = db.drop;
    env = { DATA_DIR: dir.path, DATABASE_URL: db.url, REDIS_URL, REDIS_PREFIX: redis.prefix };
    const migrated = await runCli(['migrate'], env);
    expect(migrated.output).toContain('applied CreateQueuedJobs');
    expect(migrated.code).toBe(0);
    const workerPort = await freePort();
    worker = new AppProcess('worker', { ...env, WORKER_PORT: String(workerPort) }, workerPort).start();
    const apiPort = await freePort();
    api = new AppProcess('api', { ...env, PORT: String(apiPort) }, apiPort).start();
    await Promise.all([worker.waitReady(), api.waitReady()]);
  });

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    await redis.clear();
    await dropDb?.();
    dir.remove();
  });

  it('should report the database, Redis and storage as ready on the API and on the worker', async () => {
    for (const app of [api, worker]) {
      const res = await fetch(`${app.baseUrl}/health/ready`);
      const body = (await res.json()) as { details: Record<string, { status: string }> };
      expect(res.status).toBe(200);
      expect(Object.keys(body.details).sort()).toEqual(['database', 'migrations', 'redis', 'storage']);
    }
    const migrations = await runCli(['migrate', '--check'], env);
    expect(migrations.output).toContain('Database is up to date.');
    expect(migrations.code).toBe(0);
  });

  it('should publish the OpenAPI document and Prometheus metrics', async () => {
    const doc = (await (await fetch(`${api.baseUrl}/docs-json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toContain('/api/v1/jobs/diagnostic');
    const metrics = await fetch(`${worker.baseUrl}/metrics`);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain('process_resident_memory_bytes');
  });

  it('should run a job on the worker and push its progress and completion to a client of the API', async () => {
    const client = new ProgressClient(api.baseUrl);
    try {
      await client.connected();
      await client.subscribe({ topic: 'jobs' });
      const res = await fetch(`${api.baseUrl}/api/v1/jobs/diagnostic`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ steps: 4, stepMs: 50 }),
      });
      const { id } = (await res.json()) as { id: string };
      await client.waitFor((e) => e.event === 'job.completed' && e.payload.jobId === id);
      const progress = client
        .ofJob(id)
        .filter((e) => e.event === 'job.progress')
        .map((e) => (e.payload as { progress: number }).progress);
      expect(progress).toEqual([0.25, 0.5, 0.75, 1]);
      expect(client.ofJob(id).filter((e) => e.event === 'job.completed')).toHaveLength(1);
      const state = (await (await fetch(`${api.baseUrl}/api/v1/jobs/diagnostic/${id}`)).json()) as {
        status: string;
        result: { pid: number };
      };
      expect(state.status).toBe('completed');
      // It ran in the worker process, not in the API.
      expect(state.result.pid).toBe(worker.pid);
      const metrics = await (await fetch(`${worker.baseUrl}/metrics`)).text();
      expect(metrics).toMatch(/jobs_total\{name="diagnostic",outcome="completed"\} [1-9]/);
    } finally {
      client.close();
    }
  });

  it('should cancel a job running on the worker from the API', async () => {
    const client = new ProgressClient(api.baseUrl);
    try {
      await client.connected();
      await client.subscribe({ topic: 'jobs' });
      const res = await fetch(`${api.baseUrl}/api/v1/jobs/diagnostic`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ steps: 200, stepMs: 50 }),
      });
      const { id } = (await res.json()) as { id: string };
      await client.waitFor((e) => e.event === 'job.progress' && e.payload.jobId === id);
      const cancel = await fetch(`${api.baseUrl}/api/v1/jobs/diagnostic/${id}/cancel`, { method: 'POST' });
      expect(await cancel.json()).toEqual({ id, outcome: 'signalled' });
      await client.waitFor((e) => e.event === 'job.cancelled' && e.payload.jobId === id);
      const state = (await (await fetch(`${api.baseUrl}/api/v1/jobs/diagnostic/${id}`)).json()) as { status: string };
      expect(state.status).toBe('cancelled');
    } finally {
      client.close();
    }
  });
});
