/**
 * Scale-out proven: two API instances and two workers as real processes on a fresh PostgreSQL database (reached
 * through a TCP proxy that the test can cut) and a private redis-server (that the test can kill and restart),
 * with two fake SD.Next backends. The machine's shared PostgreSQL and Redis are never stopped.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { generateCorpus } from './support/corpus-builder.js';
import { FakeSdNext, type FakeGeneration } from './support/fake-sdnext.js';
import { ProgressClient, type ReceivedEvent } from './support/progress-client.js';
import { RedisServer } from './support/redis-server.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { createTestDatabase, tempDir } from './support/test-services.js';

const json = { 'content-type': 'application/json' };
const PREFIX = `lmtest-scaleout-${process.pid}`;
const CORPUS = 1500;

interface GenJob {
  id: string;
  status: string;
  backendId: string | null;
  error: string | null;
}
interface DiagJob {
  id: string;
  status: string;
  result: { pid: number; attempt: number } | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const overlaps = (x: FakeGeneration, y: FakeGeneration): boolean =>
  x.startedAt < (y.endedAt ?? Infinity) && y.startedAt < (x.endedAt ?? Infinity);
const count = (events: ReceivedEvent[], name: string): number => events.filter((e) => e.event === name).length;

describe('scale-out: 2 APIs + 2 workers on PostgreSQL and Redis, faults survived', () => {
  const dir = tempDir('scaleout');
  const root = join(dir.path, 'loras');
  let redis: RedisServer | undefined;
  const started: AppProcess[] = [];
  const clients: ProgressClient[] = [];
  const fakes = [new FakeSdNext({ flavour: 'sdnext', stepMs: 5 }), new FakeSdNext({ flavour: 'sdnext', stepMs: 5 })];
  let pgProxy: TcpProxy;
  let dropDb: (() => Promise<void>) | undefined;
  let env: Record<string, string>;
  let apis: AppProcess[];
  let workers: AppProcess[];
  let inspect: Redis;

  const startApp = async (app: 'api' | 'worker'): Promise<AppProcess> => {
    const port = await freePort();
    const portVar = app === 'api' ? 'PORT' : 'WORKER_PORT';
    const proc = new AppProcess(app, { ...env, [portVar]: String(port) }, port).start();
    started.push(proc);
    return proc;
  };
  const startWorker = async (): Promise<AppProcess> => {
    const worker = await startApp('worker');
    await worker.waitReady();
    return worker;
  };
  const client = async (api: AppProcess, ...subscriptions: object[]): Promise<ProgressClient> => {
    const c = new ProgressClient(api.baseUrl);
    clients.push(c);
    await c.connected();
    for (const s of subscriptions) expect((await c.subscribe(s)).ok).toBe(true);
    return c;
  };
  const post = async (api: AppProcess, path: string, body: unknown): Promise<Response> =>
    fetch(`${api.baseUrl}/api/v1/${path}`, { method: 'POST', headers: json, body: JSON.stringify(body) });
  const diagnostic = async (api: AppProcess, steps: number, stepMs: number): Promise<string> => {
    const res = await post(api, 'jobs/diagnostic', { steps, stepMs });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  };
  const queueGeneration = async (api: AppProcess, body: Record<string, unknown>): Promise<string> => {
    const res = await post(api, 'generation/queue-generation', body);
    expect(res.status).toBe(201);
    return ((await res.json()) as GenJob).id;
  };
  const genJob = async (api: AppProcess, id: string): Promise<GenJob> =>
    (await (await fetch(`${api.baseUrl}/api/v1/generation/jobs/${id}`)).json()) as GenJob;
  const diagJob = async (api: AppProcess, id: string): Promise<DiagJob> =>
    (await (await fetch(`${api.baseUrl}/api/v1/jobs/diagnostic/${id}`)).json()) as DiagJob;
  const settleGeneration = async (api: AppProcess, id: string, timeoutMs = 20_000): Promise<GenJob> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await genJob(api, id);
      if (['succeeded', 'failed', 'cancelled'].includes(state.status)) return state;
      if (Date.now() > deadline) throw new Error(`generation ${id} still ${state.status}`);
      await sleep(50);
    }
  };
  /** The worker process that took a job (BullMQ `processedBy`, set from the worker's name `host:pid`). */
  const processedBy = async (queue: string, id: string, timeoutMs = 10_000): Promise<number> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const pb = await inspect.hget(`${PREFIX}:${queue}:${id}`, 'pb');
      if (pb) return Number(pb.split(':').at(-1));
      if (Date.now() > deadline) throw new Error(`job ${queue}/${id} was never taken by a worker`);
      await sleep(25);
    }
  };
  const workerByPid = (pid: number): AppProcess => {
    const worker = workers.find((w) => w.pid === pid);
    if (!worker) throw new Error(`no live worker has pid ${pid}`);
    return worker;
  };

  beforeAll(async () => {
    const [db, redisPort, , urlA, urlB] = await Promise.all([
      createTestDatabase('scaleout'),
      freePort(),
      generateCorpus(root, CORPUS),
      fakes[0].start(),
      fakes[1].start(),
    ]);
    dropDb = db.drop;
    redis = new RedisServer(redisPort);
    await redis.start();
    inspect = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
    inspect.on('error', () => undefined);
    const direct = new URL(db.url);
    pgProxy = new TcpProxy(direct.hostname, Number(direct.port || 5432));
    const proxied = new URL(db.url);
    proxied.port = String(await pgProxy.start());
    const base = {
      DATA_DIR: join(dir.path, 'data'),
      REDIS_URL: redis.url,
      REDIS_PREFIX: PREFIX,
      LORA_ROOTS: root,
      SDNEXT_URL: `${urlA},${urlB}`,
      SDNEXT_TIMEOUT_SECONDS: '30',
    };
    const migrated = await runCli(['migrate'], { ...base, DATABASE_URL: db.url });
    expect(migrated.code).toBe(0);
    env = { ...base, DATABASE_URL: proxied.toString() };
    workers = [await startApp('worker'), await startApp('worker')];
    apis = [await startApp('api'), await startApp('api')];
    await Promise.all([...apis, ...workers].map((p) => p.waitReady()));
  }, 120_000);

  afterAll(async () => {
    try {
      for (const c of clients) c.close();
      await Promise.allSettled(started.map((p) => p.stop('SIGTERM', 10_000)));
    } finally {
      try {
        inspect?.disconnect();
        await Promise.allSettled([redis?.kill(), pgProxy?.stop(), ...fakes.map((f) => f.stop())]);
        await dropDb?.();
      } finally {
        dir.remove();
      }
    }
  }, 60_000);

  it('should deliver progress and completion of a job created through API 2 to a client of API 1, exactly once each', async () => {
    const [api1, api2] = apis;
    const c = await client(api1, { topic: 'jobs' }, { topic: 'generations' });
    const id = await diagnostic(api2, 4, 50);
    fakes[0].setStepMs(30);
    const genId = await queueGeneration(api2, { prompt: 'cross-instance', steps: 20, backend_id: 'sdnext-0' });
    await c.waitFor((e) => e.event === 'job.completed' && e.payload.jobId === id);
    await c.waitFor((e) => e.event === 'generation.completed' && e.payload.jobId === genId);
    fakes[0].setStepMs(5);
    await sleep(300); // a duplicate forwarded by the second API instance or a second worker would arrive by now

    const progress = c
      .ofJob(id)
      .filter((e) => e.event === 'job.progress')
      .map((e) => (e.payload as { progress: number }).progress);
    expect(progress).toEqual([0.25, 0.5, 0.75, 1]);
    expect(count(c.ofJob(id), 'job.completed')).toBe(1);
    const workerPids = workers.map((w) => w.pid);
    expect(workerPids).toContain((await diagJob(api1, id)).result?.pid);

    const gen = c.ofJob(genId);
    const genProgress = gen.filter((e) => e.event === 'generation.progress').map((e) => JSON.stringify(e.payload));
    expect(genProgress.length).toBeGreaterThanOrEqual(2);
    expect(new Set(genProgress).size).toBe(genProgress.length);
    expect(count(gen, 'generation.completed')).toBe(1);
    expect(gen.filter((e) => e.event.startsWith('generation.')).at(-1)?.event).toBe('generation.completed');
    expect(count(gen, 'job.completed')).toBe(1);
    expect(workerPids).toContain(await processedBy('generation', genId));
  });

  it('should never overlap jobs on one backend across both workers, and run two backends in parallel', async () => {
    const [a, b] = fakes;
    const before = a.generations.length;
    a.setStepMs(10);
    // More jobs than one worker's concurrency (8): both workers must hold some of them.
    const ids = await Promise.all(
      Array.from({ length: 12 }, (_, n) =>
        queueGeneration(apis[n % 2], { prompt: `one backend ${n}`, steps: 6, backend_id: 'sdnext-0' }),
      ),
    );
    const states = await Promise.all(ids.map((id) => settleGeneration(apis[0], id, 30_000)));
    a.setStepMs(5);
    expect(states.every((s) => s.status === 'succeeded')).toBe(true);
    const takers = new Set(await Promise.all(ids.map((id) => processedBy('generation', id))));
    expect([...takers].sort()).toEqual(workers.map((w) => w.pid).sort());
    expect(a.generations.length - before).toBe(12);
    expect(a.maxRequestsInFlight).toBe(1);
    expect(a.maxConcurrent).toBe(1);

    const [beforeA, beforeB] = [a.generations.length, b.generations.length];
    a.setStepMs(30);
    b.setStepMs(30);
    const pair = await Promise.all(
      [1, 2].map((n) => queueGeneration(apis[n - 1], { prompt: `parallel ${n}`, steps: 15 })),
    );
    const done = await Promise.all(pair.map((id) => settleGeneration(apis[0], id)));
    a.setStepMs(5);
    b.setStepMs(5);
    expect(done.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
    expect(done.map((s) => s.backendId).sort()).toEqual(['sdnext-0', 'sdnext-1']);
    const [onA, onB] = [a.generations.slice(beforeA), b.generations.slice(beforeB)];
    expect(onA).toHaveLength(1);
    expect(onB).toHaveLength(1);
    expect(overlaps(onA[0], onB[0])).toBe(true);
    expect(b.maxRequestsInFlight).toBe(1);
  }, 60_000);

  it('should recover jobs of a worker killed with SIGKILL: the diagnostic completes elsewhere, the generation ends once, not sent twice', async () => {
    const [api1, api2] = apis;
    const c = await client(api1, { topic: 'jobs' }, { topic: 'generations' });
    const b = fakes[1];
    b.setStepMs(60);
    const diagId = await diagnostic(api2, 30, 200); // 6 s
    const genId = await queueGeneration(api2, { prompt: 'killed mid-generation', steps: 60, backend_id: 'sdnext-1' });
    await c.waitFor((e) => e.event === 'job.progress' && e.payload.jobId === diagId);
    await b.waitForStep(2); // SD.Next has the request
    const victims = [...new Set([await processedBy('diagnostic', diagId), await processedBy('generation', genId)])].map(
      workerByPid,
    );
    const killedAt = Date.now();
    await Promise.all(victims.map((v) => v.kill9()));
    workers = workers.filter((w) => !victims.includes(w));
    // Keep two workers; the stalled check of any live worker hands the jobs on once the dead one's lock expires.
    for (let i = 0; i < victims.length; i++) workers.push(await startWorker());

    const completed = await c.waitFor((e) => e.event === 'job.completed' && e.payload.jobId === diagId, 45_000);
    const recoveredAfterMs = completed.at - killedAt;
    const diag = await diagJob(api1, diagId);
    expect(diag.status).toBe('completed');
    expect(victims.map((v) => v.pid)).not.toContain(diag.result?.pid);
    expect(workers.map((w) => w.pid)).toContain(diag.result?.pid);

    const gen = await settleGeneration(api1, genId, 45_000);
    b.setStepMs(5);
    await sleep(500);
    expect(gen.status).toBe('failed');
    expect(gen.error).toContain('not sent again');
    expect(b.generations.filter((g) => g.prompt === 'killed mid-generation')).toHaveLength(1);
    expect(count(c.ofJob(genId), 'generation.failed')).toBe(1);
    expect(count(c.ofJob(genId), 'generation.completed')).toBe(0);
    expect(count(c.ofJob(diagId), 'job.completed')).toBe(1);
    expect(count(c.ofJob(diagId), 'job.failed')).toBe(0);
    process.stdout.write(
      `scale-out: SIGKILLed worker's diagnostic job completed elsewhere ${recoveredAfterMs} ms after the kill\n`,
    );
  }, 90_000);

  it('should let a worker stopped with SIGTERM finish its running job before it exits', async () => {
    const [api1, api2] = apis;
    const c = await client(api1, { topic: 'jobs' });
    const id = await diagnostic(api2, 10, 300); // 3 s
    await c.waitFor((e) => e.event === 'job.progress' && e.payload.jobId === id);
    const victim = workerByPid(await processedBy('diagnostic', id));
    const stopping = victim.stop('SIGTERM', 30_000).then((code) => ({ code, at: Date.now() }));
    const completed = await c.waitFor((e) => e.event === 'job.completed' && e.payload.jobId === id, 20_000);
    const exit = await stopping;
    workers = workers.filter((w) => w !== victim);
    workers.push(await startWorker());
    // It finished the job itself (no hand-back to another worker), then exited.
    expect((await diagJob(api1, id)).result?.pid).toBe(victim.pid);
    expect(exit.at).toBeGreaterThanOrEqual(completed.at - 50);
    // Nest's shutdown hooks re-raise the signal after a clean shutdown (no exit code, killed by SIGTERM); a failed
    // shutdown would exit with code 1.
    expect(exit.code).toBeNull();
    expect(count(c.ofJob(id), 'job.completed')).toBe(1);
    expect(c.ofJob(id).filter((e) => e.event === 'job.progress')).toHaveLength(10);
  }, 60_000);

  it('should reconnect workers and APIs after Redis restarts, and complete jobs queued around the restart', async () => {
    const [api1, api2] = apis;
    const c = await client(api1, { topic: 'jobs' }, { topic: 'generations' });
    const server = redis!;
    await server.kill();
    // Enqueued while Redis is down: the producer's offline queue holds the command until it is back.
    const during = post(api2, 'jobs/diagnostic', { steps: 3, stepMs: 20 });
    await sleep(1500);
    const down = await fetch(`${api1.baseUrl}/health/ready`);
    expect(down.status).toBe(503);
    expect(((await down.json()) as { details: Record<string, { status: string }> }).details.redis.status).toBe('down');
    await server.start();

    const duringRes = await during;
    expect(duringRes.status).toBe(201);
    const duringId = ((await duringRes.json()) as { id: string }).id;
    const after = await diagnostic(api2, 3, 20);
    const genId = await queueGeneration(api2, { prompt: 'after redis restart', steps: 4, backend_id: 'sdnext-0' });
    for (const id of [duringId, after])
      await c.waitFor((e) => e.event === 'job.completed' && e.payload.jobId === id, 30_000);
    expect((await settleGeneration(api1, genId, 30_000)).status).toBe('succeeded');
    await c.waitFor((e) => e.event === 'generation.completed' && e.payload.jobId === genId, 10_000);
    for (const id of [duringId, after]) expect(count(c.ofJob(id), 'job.completed')).toBe(1);
    for (const app of [...apis, ...workers]) expect((await fetch(`${app.baseUrl}/health/ready`)).status).toBe(200);
  }, 60_000);

  it('should report PostgreSQL down with 503s while it is unreachable and resume without a restart', async () => {
    const [api1, api2] = apis;
    const expectDown = async (label: string) => {
      const started = Date.now();
      const ready = await fetch(`${api1.baseUrl}/health/ready`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { details: Record<string, { status: string }> };
      expect(body.details.database.status).toBe('down');
      expect(body.details.redis.status).toBe('up');
      expect((await fetch(`${workers[0].baseUrl}/health/ready`)).status).toBe(503);
      for (const path of ['adapters?limit=5', 'generation/jobs?limit=5']) {
        const res = await fetch(`${api2.baseUrl}/api/v1/${path}`);
        expect({ label, path, status: res.status }).toEqual({ label, path, status: 503 });
        expect(await res.json()).toMatchObject({ statusCode: 503, code: 'database_unavailable' });
      }
      return Date.now() - started;
    };
    const expectUp = async () => {
      const deadline = Date.now() + 20_000;
      while ((await fetch(`${api1.baseUrl}/health/ready`)).status !== 200) {
        if (Date.now() > deadline) throw new Error('the database never came back in /health/ready');
        await sleep(200);
      }
      expect((await fetch(`${api2.baseUrl}/api/v1/adapters?limit=5`)).status).toBe(200);
      const id = await queueGeneration(api2, { prompt: 'after database outage', steps: 3, backend_id: 'sdnext-0' });
      expect((await settleGeneration(api1, id, 30_000)).status).toBe('succeeded');
    };

    // Refused: the server is gone.
    await pgProxy.cut();
    await expectDown('refused');
    await pgProxy.restore();
    await expectUp();

    // Black hole: connections hang; the pool's connect timeout turns that into a 503 as well.
    await pgProxy.blackhole();
    const slowMs = await expectDown('blackhole');
    expect(slowMs).toBeLessThan(30_000);
    await pgProxy.restore();
    await expectUp();
    for (const app of [...apis, ...workers]) expect((await fetch(`${app.baseUrl}/health/ready`)).status).toBe(200);
  }, 90_000);

  it('should keep queries on one API correct and fast while an import runs through the other', async () => {
    const [api1, api2] = apis;
    const c = await client(api1, { topic: 'imports' });
    const res = await post(api1, 'imports', {});
    expect(res.status).toBe(201);
    const runId = ((await res.json()) as { id: string }).id;
    let done = false;
    void c
      .waitFor((e) => e.event === 'import.completed' && e.payload.jobId === runId, 120_000)
      .finally(() => (done = true))
      .catch(() => undefined);
    const latencies: number[] = [];
    const errors: string[] = [];
    let lastTotal = 0;
    let queries = 0;
    const query = async (path: string) => {
      const t0 = performance.now();
      const r = await fetch(`${api2.baseUrl}/api/v1/adapters?${path}`);
      const body = (await r.json()) as { items?: unknown[]; total?: number };
      latencies.push(performance.now() - t0);
      queries++;
      if (r.status !== 200) errors.push(`${path}: ${r.status} ${JSON.stringify(body)}`);
      return body as { items: unknown[]; total: number };
    };
    while (!done) {
      const page = await query('limit=20&sort=name');
      if (page.total < lastTotal) errors.push(`total went back from ${lastTotal} to ${page.total}`);
      if (page.items.length !== Math.min(20, page.total))
        errors.push(`${page.items.length} items for total ${page.total}`);
      lastTotal = page.total;
      const search = await query('q=lora&limit=10');
      if (search.items.length > Math.min(10, search.total))
        errors.push(`search: ${search.items.length} items for ${search.total}`);
    }
    const completed = c.events.find((e) => e.event === 'import.completed' && e.payload.jobId === runId);
    expect(completed?.payload).toMatchObject({ status: 'completed', counts: { added: CORPUS, failed: 0 } });
    expect(errors).toEqual([]);
    expect((await query('limit=1')).total).toBe(CORPUS);
    const sorted = [...latencies].sort((x, y) => x - y);
    const p95 = sorted[Math.floor(sorted.length * 0.95)];
    process.stdout.write(
      `scale-out: ${queries} queries on API 2 during an import of ${CORPUS} files via API 1: p50 ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} ms, p95 ${p95.toFixed(1)} ms\n`,
    );
    expect(queries).toBeGreaterThan(5);
    expect(p95).toBeLessThan(2000);
  }, 150_000);
});
