import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { FakeSdNext } from './support/fake-sdnext.js';
import { ProgressClient } from './support/progress-client.js';
import { createRedisPrefix, createTestDatabase, REDIS_URL, tempDir } from './support/test-services.js';

const ROOT = resolve(import.meta.dirname, '..');
const ADMIN = 'admin-key-0123456789abcdef';
const VIEWER = 'viewer-key-0123456789abcdef';
/** Allow-listed but absent: a CLI delivery to it fails with the path in its error, which viewers must not see. */
const MISSING_COMMAND = '/nonexistent/lm-replay-deliver';

interface Stack {
  api: AppProcess;
  stop(): Promise<void>;
}

interface GenerationBody {
  id: string;
  status: string;
  images: { url: string }[];
}

/** The README's Socket.IO example (the `js` block under "## Progress events"), pointed at this API and key. */
function readmeExample(base: string, apiKey: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Progress events'));
  const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (!code) throw new Error('README has no js example under "## Progress events"');
  expect(code).toContain("'http://127.0.0.1:3000'");
  expect(code).toContain("'my-key'");
  return code.replace("'http://127.0.0.1:3000'", JSON.stringify(base)).replace("'my-key'", JSON.stringify(apiKey));
}

/** Runs an ES module with the repository's packages, as a user's script; resolves with its exit code and output. */
function runScript(dir: string, source: string, timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  const file = join(dir, 'example.mjs');
  writeFileSync(file, source);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return new Promise((done) => {
    const child = spawn(process.execPath, [file], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

function replaySuite(label: string, startStack: (env: Record<string, string>) => Promise<Stack>): void {
  describe(`Socket.IO replay on subscribe (${label})`, () => {
    const sd = new FakeSdNext({ flavour: 'sdnext', stepMs: 5 });
    let stack: Stack;
    let base: string;
    const dir = tempDir(`replay-${label}`);

    const headers = (key: string) => ({ 'content-type': 'application/json', 'x-api-key': key });
    const queue = async (body: Record<string, unknown>): Promise<string> => {
      const res = await fetch(`${base}/api/v1/generation/queue-generation`, {
        method: 'POST',
        headers: headers(ADMIN),
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    const waitFor = async <T>(url: string, check: (body: T) => boolean, timeoutMs = 15_000): Promise<T> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const body = (await (await fetch(`${base}${url}`, { headers: headers(ADMIN) })).json()) as T;
        if (check(body)) return body;
        if (Date.now() > deadline) throw new Error(`${url} never matched: ${JSON.stringify(body)}`);
        await new Promise((r) => setTimeout(r, 30));
      }
    };
    const client = async (key: string): Promise<ProgressClient> => {
      const c = new ProgressClient(base, key);
      await c.connected();
      return c;
    };

    beforeAll(async () => {
      const sdUrl = await sd.start();
      stack = await startStack({
        DATA_DIR: join(dir.path, 'data'),
        SDNEXT_URL: sdUrl,
        API_KEYS: `${ADMIN}:admin,${VIEWER}:viewer`,
        DELIVERY_CLI_COMMANDS: MISSING_COMMAND,
      });
      base = stack.api.baseUrl;
    });

    afterAll(async () => {
      await stack?.stop();
      await sd.stop();
      dir.remove();
    });

    it('should run the README example as written: queue, subscribe after, see progress and the images', async () => {
      sd.setStepMs(60);
      const { code, output } = await runScript(dir.path, readmeExample(base, ADMIN));
      sd.setStepMs(5);
      expect(code).toBe(0);
      const lines = output.trim().split('\n');
      // Replayed events reach the client before the acknowledgement, so the state line need not come first.
      expect(lines).toContainEqual(
        expect.stringMatching(/^\{ name: 'generation', status: '(queued|running)', progress: [\d.]+ \}$/),
      );
      const steps = lines.filter((l) => /^step \d+\/20$/.test(l)).map((l) => Number(/\d+/.exec(l)?.[0]));
      expect(steps.some((s) => s > 0 && s < 20)).toBe(true);
      const done = lines.at(-1) ?? '';
      expect(done).toMatch(new RegExp(`^done: ${base}/api/v1/generation/jobs/[0-9a-f-]{36}/images/0$`));
      const image = await fetch(done.slice('done: '.length), { headers: headers(VIEWER) });
      expect(image.status).toBe(200);
      expect(image.headers.get('content-type')).toBe('image/jpeg');
    });

    it('should replay the progress of a running generation before acknowledging the subscription', async () => {
      sd.setStepMs(100);
      const id = await queue({ prompt: 'running replay', steps: 40 });
      await waitFor<GenerationBody>(`/api/v1/generation/jobs/${id}`, (j) => j.status === 'running');
      await sd.waitForStep(3);
      await waitFor<{ step: number }>(`/api/v1/generation/jobs/${id}`, (j) => j.step >= 2);
      const viewer = await client(VIEWER);
      try {
        const ack = await viewer.subscribe({ jobId: id });
        // Sent before the acknowledgement on the same connection, so already here.
        const replayed = viewer.ofJob(id);
        expect(ack).toMatchObject({ ok: true, room: `job:${id}`, state: { name: 'generation', status: 'running' } });
        expect(replayed[0]).toMatchObject({
          event: 'generation.progress',
          payload: { jobId: id, backendId: 'sdnext-0', steps: 40 },
        });
        expect((replayed[0].payload as { step: number }).step).toBeGreaterThanOrEqual(2);
        await fetch(`${base}/api/v1/generation/jobs/${id}/cancel`, { method: 'POST', headers: headers(ADMIN) });
        await viewer.waitFor((e) => e.event === 'generation.cancelled' && e.payload.jobId === id);
      } finally {
        viewer.close();
        sd.setStepMs(5);
      }
    });

    it('should replay the final event of a finished generation, and nothing for an unknown id', async () => {
      const id = await queue({ prompt: 'finished replay', steps: 2, seed: 77 });
      const job = await waitFor<GenerationBody>(`/api/v1/generation/jobs/${id}`, (j) => j.status === 'succeeded');
      const viewer = await client(VIEWER);
      try {
        expect(await viewer.subscribe({ jobId: id })).toEqual({
          ok: true,
          room: `job:${id}`,
          state: { name: 'generation', status: 'succeeded', progress: 1 },
        });
        // Replayed before the acknowledgement; in scale-out the queue's own `job.completed` may still follow live.
        expect(viewer.ofJob(id)[0].event).toBe('generation.completed');
        expect(viewer.ofJob(id).filter((e) => e.event.startsWith('generation.'))).toHaveLength(1);
        expect(viewer.ofJob(id)[0].payload).toMatchObject({
          seed: 77,
          images: [{ index: 0, url: job.images[0].url, contentType: 'image/jpeg' }],
        });
        const unknown = '00000000-0000-4000-8000-000000000000';
        expect(await viewer.subscribe({ jobId: unknown })).toEqual({ ok: true, room: `job:${unknown}` });
        expect(viewer.ofJob(unknown)).toEqual([]);
      } finally {
        viewer.close();
      }
    });

    it('should replay a delivery as each role may see it', async () => {
      const res = await fetch(`${base}/api/v1/deliveries`, {
        method: 'POST',
        headers: headers(ADMIN),
        body: JSON.stringify({ mode: 'cli', prompt: 'x', params: { command: MISSING_COMMAND } }),
      });
      expect(res.status).toBe(201);
      const { id } = (await res.json()) as { id: string };
      await waitFor<{ status: string }>(`/api/v1/deliveries/${id}`, (d) => d.status === 'failed');
      const [admin, viewer] = [await client(ADMIN), await client(VIEWER)];
      try {
        for (const c of [admin, viewer]) {
          expect(await c.subscribe({ jobId: id })).toMatchObject({
            state: { name: 'delivery', status: 'failed', progress: 1 },
          });
        }
        const [seenByAdmin, seenByViewer] = [admin, viewer].map((c) => c.ofJob(id));
        expect(seenByAdmin.map((e) => e.event)).toEqual(['delivery.updated']);
        expect((seenByAdmin[0].payload as { error: string }).error).toContain(MISSING_COMMAND);
        expect(seenByViewer.map((e) => e.event)).toEqual(['delivery.updated']);
        expect((seenByViewer[0].payload as { error: string }).error).toContain('[command]');
        expect(JSON.stringify(seenByViewer)).not.toContain(MISSING_COMMAND);
      } finally {
        admin.close();
        viewer.close();
      }
    });
  });
}

replaySuite('embedded', async (env) => {
  const port = await freePort();
  const api = new AppProcess('api', { ...env, PORT: String(port) }, port).start();
  await api.waitReady();
  return { api, stop: async () => void (await api.stop()) };
});

replaySuite('scale-out', async (base) => {
  const redis = createRedisPrefix('replay');
  const db = await createTestDatabase('replay');
  const env = { ...base, DATABASE_URL: db.url, REDIS_URL, REDIS_PREFIX: redis.prefix };
  expect((await runCli(['migrate'], env)).code).toBe(0);
  const workerPort = await freePort();
  const worker = new AppProcess('worker', { ...env, WORKER_PORT: String(workerPort) }, workerPort).start();
  const port = await freePort();
  const api = new AppProcess('api', { ...env, PORT: String(port) }, port).start();
  await Promise.all([api.waitReady(), worker.waitReady()]);
  return {
    api,
    stop: async () => {
      await Promise.all([api.stop(), worker.stop()]);
      await redis.clear();
      await db.drop();
    },
  };
});
