/**
 * Stopping a process that runs jobs, as an operator would: SIGTERM lets the running job finish and hands back the
 * jobs it took but had not begun (a generation waiting for the one SD.Next backend); a second SIGTERM or SIGINT hands
 * back the running ones and exits at once. Every job still ends, run by another (or a restarted) process. Both modes:
 * the scale-out worker (built `dist/apps/worker`, PostgreSQL + Redis) and the embedded API (SQLite).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { FakeSdNext } from './support/fake-sdnext.js';
import { createRedisPrefix, createTestDatabase, REDIS_URL, tempDir } from './support/test-services.js';

const json = { 'content-type': 'application/json' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface GenJob {
  id: string;
  status: string;
  attempts: number;
}
interface DiagJob {
  id: string;
  status: string;
  result: { pid: number } | null;
}

/** Waits until `proc`'s log has a line matching `pattern`; returns that line. */
async function logLine(proc: AppProcess, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = proc.text.split('\n').find((l) => pattern.test(l));
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`no log line ${pattern} in:\n${proc.text}`);
    await sleep(25);
  }
}

/** The `msg` of each JSON log line (the apps log JSON under test). */
const messages = (proc: AppProcess): string[] =>
  proc.text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      const msg = (JSON.parse(l) as { msg?: unknown }).msg;
      return typeof msg === 'string' ? msg : '';
    });

/** Sends `signal` without waiting for the exit. */
function signal(proc: AppProcess, sig: NodeJS.Signals): void {
  proc.signal(sig);
}

interface Harness {
  /** The process that runs jobs (a worker, or the embedded API). */
  startRunner(): Promise<AppProcess>;
  /** Where to call the HTTP API (a separate API in scale-out; the runner itself in embedded mode). */
  api(runner: AppProcess): AppProcess;
  /** Resolves once `runner` has taken job `id` of queue `name`. */
  taken(runner: AppProcess, name: string, id: string): Promise<void>;
  /** SIGTERM then the runner's exit; the code a clean shutdown gives (Nest re-raises the signal: null). */
  cleanExit: number | null;
}

function shutdownSuite(label: string, setup: (sd: FakeSdNext) => Promise<Harness & { stop(): Promise<void> }>): void {
  describe(`job shutdown (${label})`, () => {
    const sd = new FakeSdNext({ flavour: 'sdnext', stepMs: 5 });
    let h: Harness & { stop(): Promise<void> };
    const runners: AppProcess[] = [];

    const start = async (): Promise<AppProcess> => {
      const runner = await h.startRunner();
      runners.push(runner);
      return runner;
    };
    const post = async (api: AppProcess, path: string, body: unknown): Promise<string> => {
      const res = await fetch(`${api.baseUrl}/api/v1/${path}`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    const get = async <T>(api: AppProcess, path: string): Promise<T> =>
      (await (await fetch(`${api.baseUrl}/api/v1/${path}`)).json()) as T;
    const until = async <T>(read: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 20_000): Promise<T> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await read();
        if (check(value)) return value;
        if (Date.now() > deadline) throw new Error(`never matched: ${JSON.stringify(value)}`);
        await sleep(50);
      }
    };

    beforeAll(async () => {
      await sd.start();
      h = await setup(sd);
    }, 60_000);

    afterAll(async () => {
      await Promise.allSettled(runners.map((r) => r.stop('SIGKILL')));
      await h?.stop();
      await sd.stop();
    }, 60_000);

    it('should finish the running job on SIGTERM, hand back the one not started, and log each start and end', async () => {
      const first = await start();
      const api = h.api(first);
      sd.setStepMs(100);
      const running = await post(api, 'generation/queue-generation', { prompt: 'runs through SIGTERM', steps: 20 });
      await until(
        () => get<GenJob>(api, `generation/jobs/${running}`),
        (j) => j.status === 'running',
      );
      // One backend: the second generation waits for it inside the runner, taken but not started.
      const waiting = await post(api, 'generation/queue-generation', { prompt: 'handed back', steps: 2 });
      await h.taken(first, 'generation', waiting);
      await logLine(first, new RegExp(`Job generation ${waiting} started \\(attempt 1/3\\)`));
      expect((await get<GenJob>(api, `generation/jobs/${waiting}`)).status).toBe('queued');

      const sentAt = Date.now();
      signal(first, 'SIGTERM');
      await logLine(first, /SIGTERM: finishing 2 job\(s\); no new job is (taken|started)/);
      await logLine(first, new RegExp(`Job generation ${waiting} handed back after [\\d.]+ s: not started`));
      const code = await first.exitCode(30_000);
      const exitedAfterMs = Date.now() - sentAt;
      sd.setStepMs(5);
      expect(code).toBe(h.cleanExit);
      // The running one finished in this process before it exited.
      expect(messages(first)).toContainEqual(
        expect.stringMatching(new RegExp(`^Job generation ${running} completed in [\\d.]+ s$`)),
      );
      expect(messages(first)).toContainEqual(
        expect.stringMatching(new RegExp(`^Job generation ${running} started \\(attempt 1/3\\)$`)),
      );
      expect(exitedAfterMs).toBeGreaterThan(300);

      // Another (or a restarted) process completes the handed-back job, with no attempt spent on the hand-back.
      const second = await start();
      const done = await until(
        () => get<GenJob>(h.api(second), `generation/jobs/${waiting}`),
        (j) => j.status === 'succeeded',
      );
      expect(done.attempts).toBe(1);
      await logLine(second, new RegExp(`Job generation ${waiting} completed in [\\d.]+ s`));
      expect((await get<GenJob>(h.api(second), `generation/jobs/${running}`)).status).toBe('succeeded');
      expect(sd.generations.filter((g) => g.prompt === 'handed back')).toHaveLength(1);
      expect(sd.generations.filter((g) => g.prompt === 'runs through SIGTERM')).toHaveLength(1);
    }, 90_000);

    it('should log a failed job with its reason and duration', async () => {
      const runner = runners.at(-1) as AppProcess;
      const id = await post(h.api(runner), 'jobs/diagnostic', { steps: 2, stepMs: 10, failAtStep: 1 });
      await logLine(runner, new RegExp(`Job diagnostic ${id} failed after [\\d.]+ s, will retry: diagnostic failure`));
      await logLine(runner, new RegExp(`Job diagnostic ${id} failed after [\\d.]+ s: diagnostic failure injected`));
    }, 30_000);

    it('should hand back the running job and exit at once on a second signal; another process completes it', async () => {
      const runner = runners.at(-1) as AppProcess;
      const api = h.api(runner);
      const id = await post(api, 'jobs/diagnostic', { steps: 40, stepMs: 200 }); // 8 s
      await h.taken(runner, 'diagnostic', id);
      await until(
        () => get<DiagJob & { progress: number }>(api, `jobs/diagnostic/${id}`),
        (j) => j.status === 'running' && j.progress > 0,
      );
      signal(runner, 'SIGTERM');
      await logLine(runner, /SIGTERM: finishing 1 job\(s\)/);
      const sentAt = Date.now();
      signal(runner, 'SIGINT');
      const code = await runner.exitCode(5_000);
      const exitedAfterMs = Date.now() - sentAt;
      expect(code).toBe(130);
      expect(exitedAfterMs).toBeLessThan(3_000);
      await logLine(runner, /SIGINT again: handing back 1 running job\(s\) and exiting now/);
      expect(messages(runner).some((m) => m.startsWith(`Job diagnostic ${id} completed`))).toBe(false);

      const next = await start();
      const done = await until(
        () => get<DiagJob>(h.api(next), `jobs/diagnostic/${id}`),
        (j) => j.status === 'completed',
        30_000,
      );
      expect(done.result?.pid).toBe(next.pid);
    }, 90_000);
  });
}

shutdownSuite('scale-out worker', async (sd) => {
  const dir = tempDir('shutdown-scale');
  const redis = createRedisPrefix('shutdown');
  const db = await createTestDatabase('shutdown');
  const env = {
    DATA_DIR: join(dir.path, 'data'),
    DATABASE_URL: db.url,
    REDIS_URL,
    REDIS_PREFIX: redis.prefix,
    SDNEXT_URL: sd.url,
  };
  expect((await runCli(['migrate'], env)).code).toBe(0);
  const port = await freePort();
  const api = new AppProcess('api', { ...env, PORT: String(port) }, port).start();
  await api.waitReady();
  const inspect = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  return {
    cleanExit: null,
    api: () => api,
    startRunner: async () => {
      const workerPort = await freePort();
      const worker = new AppProcess('worker', { ...env, WORKER_PORT: String(workerPort) }, workerPort).start();
      await worker.waitReady();
      return worker;
    },
    // BullMQ stores the taker's name (`host:pid`) on the job.
    taken: async (runner, name, id) => {
      const deadline = Date.now() + 10_000;
      while (!(await inspect.hget(`${redis.prefix}:${name}:${id}`, 'pb'))?.endsWith(`:${runner.pid}`)) {
        if (Date.now() > deadline) throw new Error(`${name} ${id} never taken by worker ${runner.pid}`);
        await sleep(25);
      }
    },
    stop: async () => {
      await api.stop();
      inspect.disconnect();
      await redis.clear();
      await db.drop();
      dir.remove();
    },
  };
});

shutdownSuite('embedded API', async (sd) => {
  const dir = tempDir('shutdown-embedded');
  const port = await freePort();
  const env = { DATA_DIR: dir.path, PORT: String(port), SDNEXT_URL: sd.url };
  return {
    cleanExit: null,
    api: (runner) => runner,
    startRunner: async () => {
      const api = new AppProcess('api', env, port).start();
      await api.waitReady();
      return api;
    },
    taken: (runner, name, id) => logLine(runner, new RegExp(`Job ${name} ${id} started`)).then(() => undefined),
    stop: () => Promise.resolve(dir.remove()),
  };
});
