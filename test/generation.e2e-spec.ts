import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { FakeSdNext, type FakeGeneration } from './support/fake-sdnext.js';
import { ProgressClient } from './support/progress-client.js';
import { createRedisPrefix, createTestDatabase, REDIS_URL, tempDir } from './support/test-services.js';

const json = { 'content-type': 'application/json' };
const TIMEOUT_SECONDS = 3;

interface JobBody {
  id: string;
  status: string;
  backendId: string | null;
  error: string | null;
  attempts: number;
  seed: number | null;
  progress: number;
  images: { index: number; url: string; contentType: string; size: number }[];
}

interface Stack {
  api: AppProcess;
  stop(): Promise<void>;
}

/** Two fakes (`sdnext-0`, `sdnext-1`) and a closed port (`sdnext-2`, down). */
interface Backends {
  a: FakeSdNext;
  b: FakeSdNext;
  env: Record<string, string>;
}

async function startBackends(): Promise<Backends> {
  const a = new FakeSdNext({ flavour: 'sdnext', stepMs: 5 });
  const b = new FakeSdNext({ flavour: 'sdnext', stepMs: 5 });
  const [urlA, urlB, closed] = await Promise.all([a.start(), b.start(), freePort()]);
  return {
    a,
    b,
    env: { SDNEXT_URL: `${urlA},${urlB},http://127.0.0.1:${closed}`, SDNEXT_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS) },
  };
}

const overlaps = (x: FakeGeneration, y: FakeGeneration): boolean =>
  x.startedAt < (y.endedAt ?? Infinity) && y.startedAt < (x.endedAt ?? Infinity);

function generationSuite(label: string, startStack: (backends: Backends) => Promise<Stack>): void {
  describe(`generation (${label})`, () => {
    let backends: Backends;
    let stack: Stack;
    let base: string;

    const post = (path: string, body?: unknown) =>
      fetch(`${base}/api/v1/generation/${path}`, {
        method: 'POST',
        headers: json,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const queue = async (body: Record<string, unknown>): Promise<string> => {
      const res = await post('queue-generation', body);
      expect(res.status).toBe(201);
      return ((await res.json()) as JobBody).id;
    };
    const job = async (id: string): Promise<JobBody> => {
      const res = await fetch(`${base}/api/v1/generation/jobs/${id}`);
      expect(res.status).toBe(200);
      return (await res.json()) as JobBody;
    };
    const settle = async (id: string, timeoutMs = 15_000): Promise<JobBody> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const state = await job(id);
        if (['succeeded', 'failed', 'cancelled'].includes(state.status)) return state;
        if (Date.now() > deadline) throw new Error(`job ${id} still ${state.status}`);
        await new Promise((r) => setTimeout(r, 30));
      }
    };
    const waitFor = async (id: string, check: (j: JobBody) => boolean, timeoutMs = 10_000): Promise<JobBody> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const state = await job(id);
        if (check(state)) return state;
        if (Date.now() > deadline) throw new Error(`job ${id} never matched; it is ${JSON.stringify(state)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    beforeAll(async () => {
      backends = await startBackends();
      stack = await startStack(backends);
      base = stack.api.baseUrl;
    });

    afterAll(async () => {
      await stack?.stop();
      await Promise.all([backends?.a.stop(), backends?.b.stop()]);
    });

    it('should fail a job on a backend that is down, with the reason, after retrying only the connection', async () => {
      const id = await queue({ prompt: 'down', steps: 2, backend_id: 'sdnext-2' });
      const done = await settle(id);
      expect(done.status).toBe('failed');
      expect(done.error).toContain('cannot connect');
      expect(done.attempts).toBe(3);
      const sync = await post('generate', { prompt: 'down', steps: 2, backend_id: 'sdnext-2' });
      expect(sync.status).toBe(502);
      expect(await sync.json()).toMatchObject({ code: 'sdnext_unreachable' });
    });

    it('should list the backends with reachability, flavour, version and model', async () => {
      const res = await fetch(`${base}/api/v1/generation/backends`);
      expect(res.status).toBe(200);
      const list = (await res.json()) as {
        id: string;
        reachable: boolean;
        flavour: string;
        version: string | null;
        currentModel: string | null;
      }[];
      expect(list.map((b) => b.id)).toEqual(['sdnext-0', 'sdnext-1', 'sdnext-2']);
      expect(list[0]).toMatchObject({
        reachable: true,
        flavour: 'sdnext',
        version: '058a7f0cf',
        currentModel: backends.a.currentCheckpoint,
      });
      expect(list[2].reachable).toBe(false);
    });

    it('should push progress then completion of a queued job to a socket.io client and serve its image', async () => {
      const client = new ProgressClient(base);
      try {
        await client.connected();
        await client.subscribe({ topic: 'generations' });
        backends.a.setStepMs(40);
        const id = await queue({ prompt: 'a fox', steps: 30, seed: 1234, backend_id: 'sdnext-0' });
        const completed = await client.waitFor((e) => e.event === 'generation.completed' && e.payload.jobId === id);
        backends.a.setStepMs(5);
        const events = client.ofJob(id);
        const progress = events
          .filter((e) => e.event === 'generation.progress')
          .map((e) => e.payload as { step: number; steps: number; progress: number });
        expect(progress.length).toBeGreaterThanOrEqual(2);
        expect(progress.some((p) => p.step > 0 && p.steps === 30 && p.progress > 0 && p.progress < 1)).toBe(true);
        expect(events.at(-1)).toBe(completed);
        expect(completed.payload).toMatchObject({ backendId: 'sdnext-0', seed: 1234 });
        const state = await job(id);
        expect(state).toMatchObject({ status: 'succeeded', progress: 1, seed: 1234, backendId: 'sdnext-0' });
        expect(state.images).toHaveLength(1);
        const image = await fetch(`${base}${state.images[0].url}`);
        expect(image.status).toBe(200);
        expect(image.headers.get('content-type')).toBe('image/jpeg');
        const bytes = Buffer.from(await image.arrayBuffer());
        expect([...bytes.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
        expect(bytes.length).toBe(state.images[0].size);
        expect((await fetch(`${base}/api/v1/generation/jobs/${id}/images/1`)).status).toBe(404);
        const polled = (await (await fetch(`${base}/api/v1/generation/progress/${id}`)).json()) as {
          status: string;
          progress: number;
        };
        expect(polled).toMatchObject({ status: 'succeeded', progress: 1 });
      } finally {
        client.close();
      }
    });

    it('should never run two jobs at once on one backend', async () => {
      const before = backends.a.generations.length;
      backends.a.setStepMs(10);
      const ids = await Promise.all(
        [1, 2, 3, 4].map((n) => queue({ prompt: `one at a time ${n}`, steps: 8, backend_id: 'sdnext-0' })),
      );
      const sync = post('generate', { prompt: 'sync in between', steps: 8, backend_id: 'sdnext-0' });
      const states = await Promise.all(ids.map((id) => settle(id)));
      expect((await sync).status).toBe(200);
      backends.a.setStepMs(5);
      expect(states.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
      expect(backends.a.generations.slice(before)).toHaveLength(5);
      // The fake, like SD.Next, accepts concurrent calls and queues them on its lock: count open requests instead.
      expect(backends.a.maxRequestsInFlight).toBe(1);
      expect(backends.a.maxConcurrent).toBe(1);
    });

    it('should run jobs on two idle backends in parallel', async () => {
      const [beforeA, beforeB] = [backends.a.generations.length, backends.b.generations.length];
      backends.a.setStepMs(30);
      backends.b.setStepMs(30);
      const ids = await Promise.all([1, 2].map((n) => queue({ prompt: `parallel ${n}`, steps: 15 })));
      const states = await Promise.all(ids.map((id) => settle(id)));
      backends.a.setStepMs(5);
      backends.b.setStepMs(5);
      expect(states.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
      expect(states.map((s) => s.backendId).sort()).toEqual(['sdnext-0', 'sdnext-1']);
      const [onA, onB] = [backends.a.generations.slice(beforeA), backends.b.generations.slice(beforeB)];
      expect(onA).toHaveLength(1);
      expect(onB).toHaveLength(1);
      expect(overlaps(onA[0], onB[0])).toBe(true);
      expect(backends.a.maxRequestsInFlight).toBe(1);
      expect(backends.b.maxRequestsInFlight).toBe(1);
    });

    it('should interrupt a running job on cancel with one /interrupt and end it cancelled, then run the next one', async () => {
      const client = new ProgressClient(base);
      const interrupts = () => backends.a.requests.filter((r) => r.path === '/sdapi/v1/interrupt').length;
      try {
        await client.connected();
        await client.subscribe({ topic: 'generations' });
        // Slow steps: SD.Next stops only at the next step, so a runner that repeats the interrupt would send many.
        backends.a.setStepMs(300);
        const id = await queue({ prompt: 'long', steps: 100, backend_id: 'sdnext-0' });
        await waitFor(id, (j) => j.status === 'running');
        await backends.a.waitForStep(2);
        const before = interrupts();
        const res = await post(`jobs/${id}/cancel`);
        expect(res.status).toBe(200);
        const done = await settle(id);
        backends.a.setStepMs(5);
        expect(interrupts() - before).toBe(1);
        expect(done.status).toBe('cancelled');
        expect(done.images).toEqual([]);
        await client.waitFor((e) => e.event === 'generation.cancelled' && e.payload.jobId === id);
        expect(client.ofJob(id).some((e) => e.event === 'generation.failed')).toBe(false);
        expect(backends.a.generations.at(-1)).toMatchObject({ prompt: 'long', outcome: 'interrupted' });
        const next = await settle(await queue({ prompt: 'after cancel', steps: 2, backend_id: 'sdnext-0' }));
        expect(next.status).toBe('succeeded');
        const again = await post(`jobs/${id}/cancel`);
        expect(again.status).toBe(409);
      } finally {
        client.close();
      }
    });

    it('should remove a queued job on cancel without sending it to SD.Next', async () => {
      backends.a.setStepMs(20);
      const blocker = await queue({ prompt: 'blocker', steps: 60, backend_id: 'sdnext-0' });
      await waitFor(blocker, (j) => j.status === 'running');
      const waiting = await queue({ prompt: 'never sent', steps: 2, backend_id: 'sdnext-0' });
      const res = await post(`jobs/${waiting}/cancel`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as JobBody).status).toBe('cancelled');
      await post(`jobs/${blocker}/cancel`);
      expect((await settle(blocker)).status).toBe('cancelled');
      backends.a.setStepMs(5);
      expect((await settle(waiting)).error).toContain('before it started');
      expect(backends.a.generations.some((g) => g.prompt === 'never sent')).toBe(false);
    });

    it.each([
      ['http-500', 'CUDA out of memory'],
      ['empty-images', 'no images'],
    ] as const)('should fail on %s with a readable reason, then run the next job', async (failure, reason) => {
      backends.a.failNext(failure);
      const failed = await settle(await queue({ prompt: failure, steps: 2, backend_id: 'sdnext-0' }));
      expect(failed.status).toBe('failed');
      expect(failed.error).toContain(reason);
      expect(failed.attempts).toBe(1);
      const next = await settle(await queue({ prompt: `after ${failure}`, steps: 2, backend_id: 'sdnext-0' }));
      expect(next.status).toBe('succeeded');
    });

    it('should fail a job that gets no answer within the timeout, then run the next job', async () => {
      backends.a.failNext('hang');
      const started = Date.now();
      const failed = await settle(await queue({ prompt: 'hang', steps: 2, backend_id: 'sdnext-0' }));
      expect(failed.status).toBe('failed');
      expect(failed.error).toContain(`no answer within ${TIMEOUT_SECONDS} s`);
      expect(Date.now() - started).toBeLessThan((TIMEOUT_SECONDS + 3) * 1000);
      const next = await settle(await queue({ prompt: 'after hang', steps: 2, backend_id: 'sdnext-0' }));
      expect(next.status).toBe('succeeded');
      backends.a.failNext('hang');
      const sync = await post('generate', { prompt: 'sync hang', steps: 2, backend_id: 'sdnext-0' });
      expect(sync.status).toBe(504);
    });

    it('should generate synchronously and return the images, and 502 on a backend error', async () => {
      const res = await post('generate', {
        prompt: 'sync',
        steps: 3,
        batch_size: 2,
        checkpoint: backends.a.currentCheckpoint,
        backend_id: 'sdnext-0',
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { job: JobBody; images: { base64: string; contentType: string }[] };
      expect(body.job.status).toBe('succeeded');
      expect(body.images).toHaveLength(2);
      expect(body.images[0].contentType).toBe('image/jpeg');
      expect([...Buffer.from(body.images[0].base64, 'base64').subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
      expect(backends.a.generations.at(-1)?.params).toMatchObject({
        batch_size: 2,
        override_settings: { sd_model_checkpoint: backends.a.currentCheckpoint },
      });
      backends.a.failNext('http-500');
      const failed = await post('generate', { prompt: 'sync 500', steps: 2, backend_id: 'sdnext-0' });
      expect(failed.status).toBe(502);
      expect(((await failed.json()) as { message: string }).message).toContain('CUDA out of memory');
    });

    it('should reject invalid requests and list jobs by status', async () => {
      const bad = await post('queue-generation', { prompt: 'x', steps: 0, width: 513, extra: 1 });
      expect(bad.status).toBe(400);
      const unknownBackend = await post('queue-generation', { prompt: 'x', backend_id: 'sdnext-9' });
      expect(unknownBackend.status).toBe(400);
      const list = (await (await fetch(`${base}/api/v1/generation/jobs?status=failed&limit=2`)).json()) as {
        items: JobBody[];
        total: number;
      };
      expect(list.items).toHaveLength(2);
      expect(list.total).toBeGreaterThanOrEqual(4);
      expect(list.items.every((j) => j.status === 'failed')).toBe(true);
      expect((await fetch(`${base}/api/v1/generation/jobs/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
    });
  });
}

generationSuite('embedded', async (backends) => {
  const dir = tempDir('gen-embedded');
  const port = await freePort();
  const api = new AppProcess('api', { DATA_DIR: dir.path, PORT: String(port), ...backends.env }, port).start();
  await api.waitReady();
  return {
    api,
    stop: async () => {
      await api.stop();
      dir.remove();
    },
  };
});

generationSuite('scale-out', async (backends) => {
  const dir = tempDir('gen-scale');
  const redis = createRedisPrefix('gen');
  const db = await createTestDatabase('gen');
  const env = { DATA_DIR: dir.path, DATABASE_URL: db.url, REDIS_URL, REDIS_PREFIX: redis.prefix, ...backends.env };
  const migrated = await runCli(['migrate'], env);
  expect(migrated.code).toBe(0);
  const workerPorts = [await freePort(), await freePort()];
  // Two workers: the lease, not the queue, keeps one generation per backend.
  const workers = workerPorts.map((p) => new AppProcess('worker', { ...env, WORKER_PORT: String(p) }, p).start());
  const port = await freePort();
  const api = new AppProcess('api', { ...env, PORT: String(port) }, port).start();
  await Promise.all([api.waitReady(), ...workers.map((w) => w.waitReady())]);
  return {
    api,
    stop: async () => {
      await Promise.all([api.stop(), ...workers.map((w) => w.stop())]);
      await redis.clear();
      await db.drop();
      dir.remove();
    },
  };
});
