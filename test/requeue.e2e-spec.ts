/**
 * Scale-out durability: Redis loses its data (here: every key of this run's prefix is deleted) while a generation
 * and a delivery wait for a worker. The API's job reconciler re-enqueues both rows under their own ids and puts
 * the import queue's global concurrency back; the worker, started afterwards, runs each exactly once.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { FakeSdNext } from './support/fake-sdnext.js';
import { createRedisPrefix, createTestDatabase, REDIS_URL, tempDir } from './support/test-services.js';

const json = { 'content-type': 'application/json' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row {
  id: string;
  status: string;
}

/** A local delivery target: records every request's Idempotency-Key and answers 200. */
class Receiver {
  readonly keys: string[] = [];
  private server?: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => {
        this.keys.push(String(req.headers['idempotency-key']));
        res.writeHead(200, json).end('{"received":true}');
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server?.close(r));
  }
}

describe('scale-out: jobs lost by Redis are re-queued from their rows', () => {
  const dir = tempDir('requeue');
  const redisPrefix = createRedisPrefix('requeue');
  const sd = new FakeSdNext({ flavour: 'sdnext', stepMs: 5 });
  const receiver = new Receiver();
  let dropDb: (() => Promise<void>) | undefined;
  let dbUrl: string;
  let env: Record<string, string>;
  let api: AppProcess;
  let worker: AppProcess | undefined;
  let redis: Redis;

  const startWorker = async (): Promise<AppProcess> => {
    const port = await freePort();
    const w = new AppProcess('worker', { ...env, WORKER_PORT: String(port) }, port).start();
    await w.waitReady();
    return w;
  };
  const post = async (path: string, body: unknown): Promise<Row> => {
    const res = await fetch(`${api.baseUrl}/api/v1/${path}`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as Row;
  };
  const get = async (path: string): Promise<Row> =>
    (await (await fetch(`${api.baseUrl}/api/v1/${path}`)).json()) as Row;
  const settle = async (path: string, timeoutMs = 20_000): Promise<Row> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const row = await get(path);
      if (['succeeded', 'failed', 'cancelled'].includes(row.status)) return row;
      if (Date.now() > deadline) throw new Error(`${path} still ${row.status}`);
      await sleep(100);
    }
  };
  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`${api.baseUrl}/metrics`)).text();
    const match = new RegExp(`^jobs_requeued_total\\{name="${name}"\\} (\\d+)`, 'm').exec(text);
    return match ? Number(match[1]) : 0;
  };
  const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; API output:\n${api.text}`);
      await sleep(100);
    }
  };
  const jobKey = (queue: string, id: string): string => `${redisPrefix.prefix}:${queue}:${id}`;

  beforeAll(async () => {
    const [db, sdUrl] = await Promise.all([createTestDatabase('requeue'), sd.start(), receiver.start()]);
    dropDb = db.drop;
    dbUrl = db.url;
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    env = {
      DATA_DIR: dir.path,
      DATABASE_URL: db.url,
      REDIS_URL,
      REDIS_PREFIX: redisPrefix.prefix,
      SDNEXT_URL: sdUrl,
      DELIVERY_HTTP_ALLOW: receiver.url,
      JOB_REQUEUE_AFTER_SECONDS: '1',
      JOB_RECONCILE_INTERVAL_SECONDS: '0.5',
    };
    expect((await runCli(['migrate'], env)).code).toBe(0);
    const apiPort = await freePort();
    api = new AppProcess('api', { ...env, PORT: String(apiPort) }, apiPort).start();
    [worker] = await Promise.all([startWorker(), api.waitReady()]);
  });

  afterAll(async () => {
    await Promise.all([api?.stop(), worker?.stop()]);
    redis?.disconnect();
    await Promise.all([sd.stop(), receiver.stop()]);
    await redisPrefix.clear();
    await dropDb?.();
    dir.remove();
  });

  it('should re-enqueue a queued generation and delivery after Redis lost them, and run each exactly once', async () => {
    await worker?.stop();
    worker = undefined;
    const generation = await post('generation/queue-generation', { prompt: 'lost in redis', steps: 3 });
    const delivery = await post('deliveries', {
      mode: 'http',
      prompt: 'delivered after loss',
      params: { url: receiver.url },
    });
    expect([generation.status, delivery.status]).toEqual(['queued', 'queued']);
    expect(await redis.exists(jobKey('generation', generation.id), jobKey('delivery', delivery.id))).toBe(2);
    expect(await redis.hget(`${redisPrefix.prefix}:import:meta`, 'concurrency')).toBe('1');

    // Simulated data loss: every key of this deployment's prefix goes.
    await redisPrefix.clear();
    expect(await redis.exists(jobKey('generation', generation.id), jobKey('delivery', delivery.id))).toBe(0);

    // The API (no worker is running) puts both jobs back under their own ids, and the import limit with them.
    await waitFor(
      'the jobs to be re-queued',
      async () => (await metric('generation')) >= 1 && (await metric('delivery')) >= 1,
    );
    expect(await redis.exists(jobKey('generation', generation.id), jobKey('delivery', delivery.id))).toBe(2);
    expect(await redis.hget(`${redisPrefix.prefix}:import:meta`, 'concurrency')).toBe('1');
    expect(api.text).toMatch(/Re-queued 1 \\?"generation\\?" job/);
    expect(api.text).toMatch(/Re-queued 1 \\?"delivery\\?" job/);

    worker = await startWorker();
    expect((await settle(`generation/jobs/${generation.id}`)).status).toBe('succeeded');
    expect((await settle(`deliveries/${delivery.id}`)).status).toBe('succeeded');
    // A few more reconcile passes change nothing: the rows are no longer queued.
    await sleep(2_000);
    expect(sd.generations.filter((g) => g.prompt === 'lost in redis')).toHaveLength(1);
    expect(receiver.keys.filter((k) => k === delivery.id)).toHaveLength(1);
    expect([await metric('generation'), await metric('delivery')]).toEqual([1, 1]);
  });

  it('should leave alone a queued row whose job Redis holds as completed', async () => {
    const generation = await post('generation/queue-generation', { prompt: 'completed once', steps: 2 });
    expect((await settle(`generation/jobs/${generation.id}`)).status).toBe('succeeded');
    await waitFor(
      'the job to complete in Redis',
      async () => (await redis.zscore(`${redisPrefix.prefix}:generation:completed`, generation.id)) !== null,
    );
    // A row back in `queued` with a finished job (which should never happen): re-adding that id is a no-op.
    const client = new pg.Client({ connectionString: dbUrl });
    await client.connect();
    try {
      await client.query(
        `UPDATE generation_jobs SET status = 'queued', updated_at = now() - interval '1 hour' WHERE id = $1`,
        [generation.id],
      );
    } finally {
      await client.end();
    }
    await waitFor('the reconciler to report it', () =>
      Promise.resolve(/Redis holds their job as finished/.test(api.text)),
    );
    // And BullMQ itself ignores an add under the id of a completed job.
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue('generation', { connection, prefix: redisPrefix.prefix });
    try {
      await queue.add('generation', { jobId: generation.id }, { jobId: generation.id });
      expect(await queue.getJobState(generation.id)).toBe('completed');
    } finally {
      await queue.close();
      connection.disconnect();
    }
    await sleep(1_500);
    expect(sd.generations.filter((g) => g.prompt === 'completed once')).toHaveLength(1);
    expect(await redis.zscore(`${redisPrefix.prefix}:generation:completed`, generation.id)).not.toBeNull();
    expect(await metric('generation')).toBe(1);
  });
});
