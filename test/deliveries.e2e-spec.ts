import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { buildEdgeCaseCorpus, EDGE_CASES } from './support/corpus-builder.js';
import { FakeSdNext } from './support/fake-sdnext.js';
import { ProgressClient } from './support/progress-client.js';
import { tempDir } from './support/test-services.js';

const ADMIN = 'admin-key-0123456789abcdef';
const EDITOR = 'editor-key-0123456789abcdef';
const VIEWER = 'viewer-key-0123456789abcdef';

interface Delivery {
  id: string;
  mode: string;
  status: string;
  prompt: string;
  negativePrompt: string | null;
  params: Record<string, unknown>;
  result: {
    status?: number;
    body?: string;
    truncated?: boolean;
    bytes?: number;
    stdout?: string;
    images?: unknown[];
    [k: string]: unknown;
  } | null;
  error: string | null;
  attempts: number;
  rating: number | null;
  favorite: boolean;
  generationJobId: string | null;
}

interface Received {
  path: string;
  key: string | undefined;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

/** A local delivery target: records every POST and answers by path. */
class Receiver {
  readonly requests: Received[] = [];
  private readonly failuresLeft = new Map<string, number>();
  private readonly held: ServerResponse[] = [];
  private holdFirstOnly = new Set<string>();
  private server?: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  of(key: string): Received[] {
    return this.requests.filter((r) => r.key === key);
  }

  async waitForRequests(key: string, n: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.of(key).length < n) {
      if (Date.now() > deadline) throw new Error(`receiver got ${this.of(key).length} requests for ${key}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const key = req.headers['idempotency-key'] as string | undefined;
    const path = req.url ?? '';
    this.requests.push({ path, key, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString() || '{}') });
    const k = `${path}#${key}`;
    if (path.startsWith('/hook/flaky')) {
      const left = this.failuresLeft.get(k) ?? 2;
      this.failuresLeft.set(k, left - 1);
      if (left > 0) return void res.writeHead(503).end('busy');
      return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"after":"retries"}');
    }
    if (path.startsWith('/hook/missing')) return void res.writeHead(404).end('no such hook');
    if (path.startsWith('/hook/slow')) {
      setTimeout(() => res.writeHead(200).end('too late'), 5_000).unref();
      return;
    }
    if (path.startsWith('/hook/huge')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const block = Buffer.alloc(64 * 1024, 'x');
      // Up to 8 MiB, stopping early when the client hangs up.
      for (let i = 0; i < 128 && !res.destroyed; i++) {
        if (!res.write(block)) await new Promise((r) => res.once('drain', r).once('close', r));
      }
      return void res.end();
    }
    if (path.startsWith('/hook/hold-once')) {
      if (!this.holdFirstOnly.has(k)) {
        this.holdFirstOnly.add(k);
        this.held.push(res);
        return;
      }
      return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
    }
    if (path.startsWith('/hook/hold')) {
      this.held.push(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ received: true }));
  }

  async stop(): Promise<void> {
    for (const r of this.held) r.destroy();
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }
}

/** The example request of an HTTP delivery in the README (the `http` block under "What an HTTP target receives"). */
function documentedHttpDelivery(): { headers: Record<string, string>; body: Record<string, unknown> } {
  const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('What an HTTP target receives'));
  const block = /```http\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README has no http example of a delivery request');
  const [head, body] = block.split('\n\n');
  const headers = Object.fromEntries(
    head
      .split('\n')
      .slice(1)
      .map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
  return { headers, body: JSON.parse(body) as Record<string, unknown> };
}

/** Running (a zombie left for a PID 1 that does not reap counts as gone: it was killed, only its entry remains). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

describe('deliveries (embedded)', () => {
  const dir = tempDir('deliveries');
  const receiver = new Receiver();
  const sd = new FakeSdNext({ flavour: 'sdnext', stepMs: 5 });
  let api: AppProcess;
  let env: Record<string, string>;
  let base: string;
  const echo = join(dir.path, 'echo-args.mjs');
  const failing = join(dir.path, 'fail.sh');
  const stubborn = join(dir.path, 'stubborn.sh');
  const notListed = join(dir.path, 'not-listed.sh');
  const saveStdin = join(dir.path, 'save-stdin.sh');

  const headers = (key: string) => ({ 'content-type': 'application/json', 'x-api-key': key });
  const create = (body: unknown, key = EDITOR) =>
    fetch(`${base}/api/v1/deliveries`, { method: 'POST', headers: headers(key), body: JSON.stringify(body) });
  const created = async (body: unknown, key = EDITOR): Promise<Delivery> => {
    const res = await create(body, key);
    const json = await res.json();
    if (res.status !== 201) throw new Error(`create failed ${res.status}: ${JSON.stringify(json)}`);
    return json as Delivery;
  };
  const get = async (id: string): Promise<Delivery> => {
    const res = await fetch(`${base}/api/v1/deliveries/${id}`, { headers: headers(ADMIN) });
    expect(res.status).toBe(200);
    return (await res.json()) as Delivery;
  };
  const settle = async (id: string, timeoutMs = 20_000): Promise<Delivery> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const d = await get(id);
      if (['succeeded', 'failed', 'cancelled'].includes(d.status)) return d;
      if (Date.now() > deadline) throw new Error(`delivery ${id} still ${d.status}`);
      await new Promise((r) => setTimeout(r, 30));
    }
  };
  const startApi = async (): Promise<void> => {
    api = new AppProcess('api', env, Number(env.PORT)).start();
    await api.waitReady();
  };

  beforeAll(async () => {
    await receiver.start();
    const sdUrl = await sd.start();
    writeFileSync(
      echo,
      `#!${process.execPath}\nlet input = '';\nprocess.stdin.on('data', (d) => (input += d));\nprocess.stdin.on('end', () => {\n  process.stdout.write(JSON.stringify({ argv: process.argv.slice(2), stdin: input, id: process.env.LORA_DELIVERY_ID, apiKeys: process.env.API_KEYS ?? null }));\n});\n`,
    );
    writeFileSync(failing, '#!/bin/sh\necho "about to fail" >&2\nexit 3\n');
    // Ignores SIGTERM, and so does the child it starts; both write their pid so the test can check they are gone.
    writeFileSync(
      stubborn,
      `#!/bin/sh\ntrap '' TERM\nsh -c 'trap "" TERM; echo $$ > "$1.child"; while true; do sleep 1; done' child "$1" &\necho $$ > "$1.parent"\nwhile true; do sleep 1; done\n`,
    );
    writeFileSync(notListed, '#!/bin/sh\ntouch "$0.ran"\n');
    writeFileSync(saveStdin, '#!/bin/sh\ncat > "$1"\n');
    for (const f of [echo, failing, stubborn, notListed, saveStdin]) chmodSync(f, 0o755);
    const port = await freePort();
    env = {
      DATA_DIR: dir.path,
      PORT: String(port),
      HOST: '127.0.0.1',
      API_KEYS: `${ADMIN}:admin,${EDITOR}:editor,${VIEWER}:viewer`,
      DELIVERY_HTTP_ALLOW: `${receiver.base}/hook`,
      DELIVERY_CLI_COMMANDS: [echo, failing, stubborn, saveStdin].join(','),
      SDNEXT_URL: sdUrl,
      LORA_ROOTS: join(dir.path, 'loras'),
    };
    // A small imported library, for deliveries of composed prompts.
    await buildEdgeCaseCorpus(env.LORA_ROOTS);
    const imported = await runCli(['import'], env);
    if (imported.code !== 0) throw new Error(`import failed:\n${imported.output}`);
    await startApi();
    base = api.baseUrl;
  });

  afterAll(async () => {
    await api?.stop();
    await receiver.stop();
    await sd.stop();
    dir.remove();
  });

  it('should list the backends with their allow-lists', async () => {
    const res = await fetch(`${base}/api/v1/deliveries/backends`, { headers: headers(ADMIN) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([
      { name: 'http', allowList: [`${receiver.base}/hook`], requiredRole: 'editor' },
      { name: 'cli', allowList: [echo, failing, stubborn, saveStdin], requiredRole: 'admin' },
      { name: 'sdnext', allowList: ['sdnext-0'], requiredRole: 'editor' },
    ]);
  });

  it.each([
    ['an unknown mode', { mode: 'ftp', prompt: 'x', params: {} }, 'mode', ADMIN],
    [
      'a URL off the allow-list (look-alike host)',
      { mode: 'http', prompt: 'x', params: { url: 'http://127.0.0.1.evil.com/hook' } },
      'params.url',
      EDITOR,
    ],
    [
      'a URL off the allow-list (path)',
      { mode: 'http', prompt: 'x', params: { url: `http://127.0.0.1:1/hookx` } },
      'params.url',
      EDITOR,
    ],
    [
      'a command off the allow-list',
      { mode: 'cli', prompt: 'x', params: { command: '/bin/sh', args: ['-c', 'touch /tmp/x'] } },
      'params.command',
      ADMIN,
    ],
    ['a missing prompt', { mode: 'http', params: { url: 'URL' } }, 'prompt', EDITOR],
    ['an unknown top-level field', { mode: 'http', prompt: 'x', params: { url: 'URL' }, shell: true }, 'shell', EDITOR],
    [
      'an unknown params field',
      { mode: 'http', prompt: 'x', params: { url: 'URL', method: 'DELETE' } },
      'params.method',
      EDITOR,
    ],
    [
      'an unknown sdnext field',
      { mode: 'sdnext', prompt: 'x', params: { steps: 2, script: 'x' } },
      'params.script',
      EDITOR,
    ],
  ])('should refuse %s with a 400 naming the field, and run nothing', async (_label, body, field, key) => {
    const b = JSON.parse(JSON.stringify(body).replace('"URL"', JSON.stringify(`${receiver.base}/hook/ok`)));
    const before = receiver.requests.length;
    const res = await create(b, key);
    expect(res.status).toBe(400);
    const err = (await res.json()) as { message: string; details: { field: string }[] };
    expect(err.details.map((d) => d.field)).toContain(field);
    expect(err.message).toContain(field);
    const list = (await (await fetch(`${base}/api/v1/deliveries?limit=200`, { headers: headers(VIEWER) })).json()) as {
      items: Delivery[];
    };
    expect(list.items.some((d) => d.prompt === 'x')).toBe(false);
    expect(receiver.requests.length).toBe(before);
  });

  it('should let only an admin create CLI deliveries and no viewer create any', async () => {
    const cli = { mode: 'cli', prompt: 'role check', params: { command: echo, args: ['{prompt}'] } };
    expect((await create(cli, EDITOR)).status).toBe(403);
    expect((await create(cli, VIEWER)).status).toBe(403);
    expect(
      (await create({ mode: 'http', prompt: 'viewer', params: { url: `${receiver.base}/hook/ok` } }, VIEWER)).status,
    ).toBe(403);
    expect((await create({ mode: 'cli', prompt: 'x', params: {} })).status).toBe(403);
    expect((await settle((await created(cli, ADMIN)).id)).status).toBe('succeeded');
  });

  it('should POST the prompt as JSON with the job id as Idempotency-Key, and report events and metrics', async () => {
    const client = new ProgressClient(base, VIEWER);
    try {
      await client.connected();
      await client.subscribe({ topic: 'deliveries' });
      const d = await created({
        mode: 'http',
        prompt: 'a fox',
        negativePrompt: 'blurry',
        params: { url: `${receiver.base}/hook/ok?token=t` },
      });
      expect(d.status).toBe('queued');
      const done = await settle(d.id);
      expect(done).toMatchObject({ status: 'succeeded', attempts: 1, error: null });
      expect(done.result).toMatchObject({ status: 200, body: '{"received":true}', truncated: false });
      const got = receiver.of(d.id);
      expect(got).toHaveLength(1);
      expect(got[0].body).toEqual({
        prompt: 'a fox',
        negativePrompt: 'blurry',
        params: { url: `${receiver.base}/hook/ok?token=t` },
        deliveryId: d.id,
      });
      // The README's example request is what a target receives: the same headers and the same body fields.
      const documented = documentedHttpDelivery();
      expect(got[0].headers).toMatchObject({
        'content-type': documented.headers['content-type'],
        'idempotency-key': d.id,
        'user-agent': documented.headers['user-agent'],
      });
      expect(Object.keys(got[0].headers)).toEqual(expect.arrayContaining(Object.keys(documented.headers)));
      expect(Object.keys(got[0].body).sort()).toEqual(Object.keys(documented.body).sort());
      expect(got[0].body.params).toEqual(
        expect.objectContaining(
          Object.fromEntries(Object.keys(documented.body.params as object).map((k) => [k, expect.anything()])),
        ),
      );
      await client.waitFor(
        (e) =>
          e.event === 'delivery.updated' &&
          e.payload.jobId === d.id &&
          (e.payload as { status: string }).status === 'succeeded',
      );
      expect(client.ofJob(d.id).map((e) => (e.payload as { status: string }).status)).toEqual([
        'queued',
        'running',
        'succeeded',
      ]);
    } finally {
      client.close();
    }
    const metrics = await (await fetch(`${base}/metrics`, { headers: headers(VIEWER) })).text();
    expect(metrics).toMatch(/deliveries_total\{backend="http",outcome="succeeded"\} [1-9]/);
  });

  it('should retry 5xx answers with backoff and the same Idempotency-Key, then succeed', async () => {
    const d = await created({ mode: 'http', prompt: 'flaky', params: { url: `${receiver.base}/hook/flaky` } });
    const done = await settle(d.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 3 });
    expect(done.result).toMatchObject({ status: 200 });
    const got = receiver.of(d.id);
    expect(got).toHaveLength(3);
    expect(new Set(got.map((r) => r.key))).toEqual(new Set([d.id]));
  });

  it('should fail a 4xx at once without a retry, keeping the status and body', async () => {
    const done = await settle(
      (await created({ mode: 'http', prompt: 'nope', params: { url: `${receiver.base}/hook/missing` } })).id,
    );
    expect(done).toMatchObject({ status: 'failed', attempts: 1 });
    expect(done.error).toContain('HTTP 404');
    expect(done.result).toMatchObject({ status: 404, body: 'no such hook' });
    expect(receiver.of(done.id)).toHaveLength(1);
  });

  it('should time out a slow receiver, retry it, and fail with the reason', async () => {
    const done = await settle(
      (await created({ mode: 'http', prompt: 'slow', params: { url: `${receiver.base}/hook/slow`, timeoutMs: 300 } }))
        .id,
    );
    expect(done).toMatchObject({ status: 'failed', attempts: 4 });
    expect(done.error).toContain('no answer within 300 ms');
    expect(receiver.of(done.id)).toHaveLength(4);
  });

  it('should stop reading a huge response at the cap and say it was truncated', async () => {
    const done = await settle(
      (await created({ mode: 'http', prompt: 'huge', params: { url: `${receiver.base}/hook/huge` } })).id,
    );
    expect(done.status).toBe('succeeded');
    expect(done.result?.truncated).toBe(true);
    expect(done.result?.body?.length).toBe(64 * 1024);
    expect(done.result?.bytes).toBeLessThan(8 * 1024 * 1024);
  });

  it('should pass hostile prompt text to the program as exact arguments and stdin, never through a shell', async () => {
    const marker = join(dir.path, 'pwned');
    const prompt = `a fox $(touch ${marker}) \`touch ${marker}2\`; touch ${marker}3 && echo "double" 'single' \\ back\nnew line {negative}`;
    const negative = `no $(touch ${marker}4) | cat`;
    const d = await created(
      {
        mode: 'cli',
        prompt,
        negativePrompt: negative,
        params: { command: echo, args: ['--prompt', '{prompt}', '--neg={negative}', '*'], stdin: true },
      },
      ADMIN,
    );
    const done = await settle(d.id);
    expect(done.status).toBe('succeeded');
    expect(done.result).toMatchObject({ exitCode: 0, stdoutTruncated: false, timedOut: false });
    const out = JSON.parse(done.result?.stdout ?? '');
    expect(out).toEqual({
      argv: ['--prompt', prompt, `--neg=${negative}`, '*'],
      stdin: prompt,
      id: d.id,
      apiKeys: null,
    });
    for (const suffix of ['', '2', '3', '4']) expect(existsSync(`${marker}${suffix}`)).toBe(false);
  });

  it('should write the prompt to the standard input of a command whose args do not carry it', async () => {
    const out = join(dir.path, 'stdin.txt');
    const prompt = 'a fox in the snow <lora:Watercolor:0.8>\nsecond line';
    const done = await settle(
      (await created({ mode: 'cli', prompt, params: { command: saveStdin, args: [out] } }, ADMIN)).id,
    );
    expect(done).toMatchObject({ status: 'succeeded', params: { stdin: true } });
    expect(readFileSync(out, 'utf8')).toBe(prompt);
    const refused = await create(
      { mode: 'cli', prompt, params: { command: saveStdin, args: [out], stdin: false } },
      ADMIN,
    );
    expect(refused.status).toBe(400);
    const error = (await refused.json()) as { details: { field: string; message: string }[] };
    expect(error.details).toEqual([
      { field: 'params.stdin', message: expect.stringContaining('would never get the prompt') },
    ]);
  });

  it('should fail on a non-zero exit with the exit code and stderr', async () => {
    const done = await settle((await created({ mode: 'cli', prompt: 'x', params: { command: failing } }, ADMIN)).id);
    expect(done).toMatchObject({ status: 'failed', attempts: 1 });
    expect(done.error).toContain('exited with code 3');
    expect(done.result).toMatchObject({ exitCode: 3, stderr: 'about to fail\n' });
  });

  it('should kill a program that ignores SIGTERM, and its children, at the timeout', async () => {
    const pidFile = join(dir.path, 'stubborn');
    const started = Date.now();
    const done = await settle(
      (
        await created(
          { mode: 'cli', prompt: 'x', params: { command: stubborn, args: [pidFile], timeoutMs: 500 } },
          ADMIN,
        )
      ).id,
    );
    expect(done).toMatchObject({ status: 'failed', attempts: 1 });
    expect(done.result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
    expect(done.error).toContain('did not finish within 500 ms');
    expect(Date.now() - started).toBeLessThan(8_000);
    for (const which of ['parent', 'child']) {
      const pid = Number(readFileSync(`${pidFile}.${which}`, 'utf8').trim());
      expect(pid).toBeGreaterThan(0);
      expect(isAlive(pid)).toBe(false);
    }
  });

  it('should cancel a running delivery, then refuse to cancel it again', async () => {
    const d = await created({ mode: 'http', prompt: 'held', params: { url: `${receiver.base}/hook/hold` } });
    await receiver.waitForRequests(d.id, 1);
    const res = await fetch(`${base}/api/v1/deliveries/${d.id}/cancel`, { method: 'POST', headers: headers(EDITOR) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Delivery).status).toBe('cancelled');
    const again = await fetch(`${base}/api/v1/deliveries/${d.id}/cancel`, { method: 'POST', headers: headers(EDITOR) });
    expect(again.status).toBe(409);
    expect(receiver.of(d.id)).toHaveLength(1);
  });

  it('should deliver to SD.Next through a generation and finish when it does', async () => {
    const before = sd.generations.length;
    const d = await created({
      mode: 'sdnext',
      prompt: 'a fox on sdnext',
      negativePrompt: 'blurry',
      params: { steps: 3, seed: 7 },
    });
    const done = await settle(d.id);
    expect(done.status).toBe('succeeded');
    expect(done.generationJobId).toEqual(expect.any(String));
    expect(done.result).toMatchObject({ generationJobId: done.generationJobId, seed: 7, backendId: 'sdnext-0' });
    expect(done.result?.images).toHaveLength(1);
    const gen = (await (
      await fetch(`${base}/api/v1/generation/jobs/${done.generationJobId}`, { headers: headers(VIEWER) })
    ).json()) as { status: string };
    expect(gen.status).toBe('succeeded');
    expect(sd.generations.slice(before)).toHaveLength(1);
    expect(sd.generations.at(-1)).toMatchObject({ prompt: 'a fox on sdnext', negativePrompt: 'blurry' });
  });

  it('should patch rating and favorite, and filter and page the list', async () => {
    const list0 = (await (
      await fetch(`${base}/api/v1/deliveries?mode=cli&limit=200`, { headers: headers(VIEWER) })
    ).json()) as { items: Delivery[]; total: number };
    expect(list0.total).toBeGreaterThanOrEqual(4);
    expect(list0.items.every((d) => d.mode === 'cli')).toBe(true);
    const id = list0.items[0].id;
    const patch = await fetch(`${base}/api/v1/deliveries/${id}`, {
      method: 'PATCH',
      headers: headers(EDITOR),
      body: JSON.stringify({ rating: 4, favorite: true }),
    });
    expect(patch.status).toBe(200);
    expect(await patch.json()).toMatchObject({ rating: 4, favorite: true });
    expect(
      (
        await fetch(`${base}/api/v1/deliveries/${id}`, {
          method: 'PATCH',
          headers: headers(EDITOR),
          body: JSON.stringify({ rating: 6 }),
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await fetch(`${base}/api/v1/deliveries/${id}`, {
          method: 'PATCH',
          headers: headers(VIEWER),
          body: JSON.stringify({ rating: 1 }),
        })
      ).status,
    ).toBe(403);
    const favs = (await (
      await fetch(`${base}/api/v1/deliveries?favorite=true`, { headers: headers(VIEWER) })
    ).json()) as { items: Delivery[]; total: number };
    expect(favs.items.map((d) => d.id)).toEqual([id]);
    const failed = (await (
      await fetch(`${base}/api/v1/deliveries?status=failed&limit=2&offset=1`, { headers: headers(VIEWER) })
    ).json()) as { items: Delivery[]; total: number; offset: number };
    expect(failed.items).toHaveLength(2);
    expect(failed.total).toBeGreaterThanOrEqual(3);
    expect(failed.items.every((d) => d.status === 'failed')).toBe(true);
    expect((await fetch(`${base}/api/v1/deliveries?status=nope`, { headers: headers(VIEWER) })).status).toBe(400);
    expect(
      (await fetch(`${base}/api/v1/deliveries/00000000-0000-4000-8000-000000000000`, { headers: headers(VIEWER) }))
        .status,
    ).toBe(404);
  });

  it('should compose a prompt on the fly for a delivery, and deliver from POST /compose with a delivery block', async () => {
    const adapters = (await (
      await fetch(`${base}/api/v1/adapters?limit=100`, { headers: headers(VIEWER) })
    ).json()) as {
      items: { id: string; relativePath: string }[];
    };
    const good = adapters.items.find((a) => a.relativePath === EDGE_CASES.good);
    expect(good).toBeDefined();
    const composition = {
      adapters: [{ id: good!.id, weight: 0.7 }],
      prefix: 'composed fox',
      negative: 'blurry',
      triggerWords: 'none',
    };
    const d = await created({ mode: 'http', composition, params: { url: `${receiver.base}/hook/ok` } });
    const done = await settle(d.id);
    expect(done.status).toBe('succeeded');
    expect(done.prompt).toContain('composed fox');
    expect(done.prompt).toMatch(/<lora:[^>]+:0\.7>/);
    expect(receiver.of(d.id)[0].body).toMatchObject({ prompt: done.prompt, negativePrompt: 'blurry' });
    expect(
      (await create({ mode: 'http', prompt: 'x', composition, params: { url: `${receiver.base}/hook/ok` } })).status,
    ).toBe(400);
    expect(
      (
        await create({
          mode: 'http',
          composition: { ...composition, bogus: 1 },
          params: { url: `${receiver.base}/hook/ok` },
        })
      ).status,
    ).toBe(400);

    const compose = (body: unknown, key = EDITOR) =>
      fetch(`${base}/api/v1/compose`, { method: 'POST', headers: headers(key), body: JSON.stringify(body) });
    const res = await compose({
      ...composition,
      prefix: 'seed style',
      delivery: { mode: 'http', params: { url: `${receiver.base}/hook/ok` } },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { prompt: string; delivery: Delivery };
    expect(body.prompt).toContain('seed style');
    expect(body.delivery).toMatchObject({ mode: 'http', prompt: body.prompt });
    expect((await settle(body.delivery.id)).status).toBe('succeeded');
    expect(receiver.of(body.delivery.id)[0].body.prompt).toBe(body.prompt);
    const plain = (await (await compose({ ...composition, prefix: 'no delivery' })).json()) as { delivery?: unknown };
    expect(plain.delivery).toBeUndefined();
    expect((await compose({ ...composition, delivery: { mode: 'cli', params: { command: echo } } })).status).toBe(403);
    expect(
      (await compose({ ...composition, delivery: { mode: 'http', params: { url: 'http://elsewhere.example/' } } }))
        .status,
    ).toBe(400);
  });

  it('should finish a delivery that was running when the API was killed, once, after a restart', async () => {
    const d = await created({ mode: 'http', prompt: 'survives', params: { url: `${receiver.base}/hook/hold-once` } });
    await receiver.waitForRequests(d.id, 1);
    expect((await get(d.id)).status).toBe('running');
    await api.kill9();
    await startApi();
    const done = await settle(d.id);
    expect(done.status).toBe('succeeded');
    expect(done.result).toMatchObject({ status: 200 });
    const got = receiver.of(d.id);
    expect(got).toHaveLength(2);
    expect(got.every((r) => r.key === d.id)).toBe(true);
    const list = (await (await fetch(`${base}/api/v1/deliveries?limit=200`, { headers: headers(VIEWER) })).json()) as {
      items: Delivery[];
    };
    expect(list.items.filter((x) => x.prompt === 'survives')).toHaveLength(1);
  });
});
