import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AppProcess, freePort } from './support/app-process.js';
import { writeSafetensors } from './support/corpus-builder.js';
import { ProgressClient } from './support/progress-client.js';
import { cliDatabase } from './support/cli-library.js';
import { tempDir } from './support/test-services.js';

const ADMIN = 'admin-key-0123456789abcdefgh';
const EDITOR = 'editor-key-0123456789abcdef';
const VIEWER = 'viewer-key-0123456789abcdef';
const CAPPED = 'capped-key-0123456789abcdef';
const TOKEN = 'hook-token-s3cret';
const RESULT_TOKEN = 'result-token-s3cret';
const ARG_SECRET = 'arg-s3cret-value';

interface Delivery {
  id: string;
  mode: string;
  status: string;
  params: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: string | null;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`what roles below admin see, and may cancel (${dialect})`, () => {
    const dir = tempDir(`sec-disclosure-${dialect}`);
    const root = join(dir.path, 'library');
    const echo = join(dir.path, 'echo-args.mjs');
    const sleeper = join(dir.path, 'sleep.sh');
    const missing = join(dir.path, 'not-installed-anymore');
    let receiver: Server;
    let hook: string;
    let api: AppProcess;
    let base: string;
    let drop: () => Promise<void>;

    const headers = (key: string) => ({ 'content-type': 'application/json', 'x-api-key': key });
    const call = async (key: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: headers(key),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, text, json: (text ? JSON.parse(text) : null) as Record<string, unknown> };
    };
    const create = async (body: unknown): Promise<Delivery> => {
      const res = await call(ADMIN, 'POST', '/api/v1/deliveries', body);
      if (res.status !== 201) throw new Error(`create failed ${res.status}: ${res.text}`);
      return res.json as unknown as Delivery;
    };
    const settle = async (id: string): Promise<void> => {
      const deadline = Date.now() + 20_000;
      while (
        !['succeeded', 'failed', 'cancelled'].includes(
          (await call(ADMIN, 'GET', `/api/v1/deliveries/${id}`)).json.status as string,
        )
      ) {
        if (Date.now() > deadline) throw new Error(`delivery ${id} did not end`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    beforeAll(async () => {
      receiver = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ next: `https://cb.example/next?token=${RESULT_TOKEN}` }));
        });
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
      hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      writeFileSync(echo, `#!${process.execPath}\nprocess.stdout.write(JSON.stringify(process.argv.slice(2)));\n`);
      writeFileSync(sleeper, '#!/bin/sh\nsleep 30\n');
      for (const f of [echo, sleeper]) chmodSync(f, 0o755);
      mkdirSync(join(root, 'characters'), { recursive: true });
      await writeSafetensors(join(root, 'characters', 'fox.safetensors'), { seed: 'fox' });
      writeFileSync(join(root, 'characters', 'broken.safetensors'), Buffer.from('not a safetensors file'));
      const db = await cliDatabase(dialect, 'secdisclosure', join(dir.path, 'data'));
      drop = db.drop;
      const port = await freePort();
      api = new AppProcess(
        'api',
        {
          ...db.env,
          PORT: String(port),
          HOST: '127.0.0.1',
          API_KEYS: `${ADMIN}:admin,${EDITOR}:editor,${VIEWER}:viewer,${CAPPED}:viewer`,
          LORA_ROOTS: root,
          DELIVERY_HTTP_ALLOW: hook,
          DELIVERY_CLI_COMMANDS: `${echo},${sleeper},${missing}`,
          SOCKET_MAX_JOB_SUBSCRIPTIONS: '3',
          SOCKET_MAX_CONNECTIONS_PER_KEY: '2',
        },
        port,
      ).start();
      await api.waitReady();
      base = api.baseUrl;
    }, 120_000);

    afterAll(async () => {
      await api?.stop();
      await new Promise((r) => receiver.close(r));
      await drop?.();
      dir.remove();
    });

    it('should show webhook tokens, CLI arguments and output to admins only (REST and events)', async () => {
      const viewerSocket = new ProgressClient(base, VIEWER);
      const adminSocket = new ProgressClient(base, ADMIN);
      try {
        await Promise.all([viewerSocket.connected(), adminSocket.connected()]);
        await viewerSocket.subscribe({ topic: 'deliveries' });
        await adminSocket.subscribe({ topic: 'deliveries' });
        const http = await create({ mode: 'http', prompt: 'a fox', params: { url: `${hook}?token=${TOKEN}` } });
        const cli = await create({
          mode: 'cli',
          prompt: 'a fox',
          params: { command: echo, args: ['--key', ARG_SECRET, '{prompt}'] },
        });
        const gone = await create({ mode: 'cli', prompt: 'a fox', params: { command: missing } });
        for (const d of [http, cli, gone]) await settle(d.id);

        const secrets = [TOKEN, RESULT_TOKEN, ARG_SECRET, echo, missing];
        for (const key of [VIEWER, EDITOR]) {
          const list = await call(key, 'GET', '/api/v1/deliveries?limit=200');
          expect(list.status).toBe(200);
          for (const secret of secrets) expect(list.text).not.toContain(secret);
          for (const d of [http, cli, gone]) {
            const one = await call(key, 'GET', `/api/v1/deliveries/${d.id}`);
            for (const secret of secrets) expect(one.text).not.toContain(secret);
          }
        }
        const seenHttp = (await call(VIEWER, 'GET', `/api/v1/deliveries/${http.id}`)).json as unknown as Delivery;
        expect(seenHttp.params.url).toBe(`${hook}?***`);
        expect(seenHttp.result).toMatchObject({
          status: 200,
          body: expect.stringContaining('https://cb.example/next?***'),
        });
        const seenCli = (await call(VIEWER, 'GET', `/api/v1/deliveries/${cli.id}`)).json as unknown as Delivery;
        expect(seenCli).toMatchObject({
          status: 'succeeded',
          params: { command: null, args: null },
          result: { exitCode: 0, stdout: null, stderr: null },
        });
        const seenGone = (await call(EDITOR, 'GET', `/api/v1/deliveries/${gone.id}`)).json as unknown as Delivery;
        expect(seenGone.error).toContain('[command]');
        // An editor's own answers (rating a delivery) are redacted the same way.
        const patched = await call(EDITOR, 'PATCH', `/api/v1/deliveries/${http.id}`, { rating: 4 });
        expect(patched.status).toBe(200);
        expect(patched.text).not.toContain(TOKEN);

        const admin = await call(ADMIN, 'GET', '/api/v1/deliveries?limit=200');
        for (const secret of secrets) expect(admin.text).toContain(secret);

        await adminSocket.waitFor(
          (e) =>
            e.event === 'delivery.updated' &&
            e.payload.jobId === gone.id &&
            (e.payload as { status: string }).status === 'failed',
        );
        await viewerSocket.waitFor(
          (e) =>
            e.event === 'delivery.updated' &&
            e.payload.jobId === gone.id &&
            (e.payload as { status: string }).status === 'failed',
        );
        const viewerEvents = JSON.stringify(viewerSocket.events.map((e) => e.payload));
        const adminEvents = JSON.stringify(adminSocket.events.map((e) => e.payload));
        expect(adminEvents).toContain(missing);
        expect(viewerEvents).not.toContain(missing);
        expect(viewerEvents).toContain('[command]');
      } finally {
        viewerSocket.close();
        adminSocket.close();
      }
    });

    it('should list allowed URL prefixes and executables to admins only', async () => {
      for (const key of [VIEWER, EDITOR]) {
        const backends = await call(key, 'GET', '/api/v1/deliveries/backends');
        expect(backends.json).toEqual([
          { name: 'http', allowList: [], requiredRole: 'editor' },
          { name: 'cli', allowList: [], requiredRole: 'admin' },
          { name: 'sdnext', allowList: [], requiredRole: 'editor' },
        ]);
      }
      const admin = await call(ADMIN, 'GET', '/api/v1/deliveries/backends');
      expect(admin.text).toContain(hook);
      expect(admin.text).toContain(echo);
    });

    it('should let only the role that may start a job cancel it', async () => {
      const diagnostic = await call(ADMIN, 'POST', '/api/v1/jobs/diagnostic', { steps: 50, stepMs: 100 });
      const id = diagnostic.json.id as string;
      const byEditor = await call(EDITOR, 'POST', `/api/v1/jobs/diagnostic/${id}/cancel`);
      expect(byEditor).toMatchObject({ status: 403, json: { code: 'forbidden' } });
      expect(
        (await call(EDITOR, 'POST', '/api/v1/jobs/import/00000000-0000-4000-8000-000000000000/cancel')).status,
      ).toBe(403);
      expect((await call(ADMIN, 'POST', `/api/v1/jobs/diagnostic/${id}/cancel`)).status).toBe(200);

      const running = await create({ mode: 'cli', prompt: 'x', params: { command: sleeper } });
      const deadline = Date.now() + 10_000;
      while (
        (await call(ADMIN, 'GET', `/api/v1/deliveries/${running.id}`)).json.status !== 'running' &&
        Date.now() < deadline
      ) {
        await new Promise((r) => setTimeout(r, 50));
      }
      const viaDeliveries = await call(EDITOR, 'POST', `/api/v1/deliveries/${running.id}/cancel`);
      expect(viaDeliveries).toMatchObject({ status: 403, json: { code: 'delivery_cancel_forbidden' } });
      expect((await call(EDITOR, 'POST', `/api/v1/jobs/delivery/${running.id}/cancel`)).status).toBe(403);
      expect((await call(ADMIN, 'GET', `/api/v1/deliveries/${running.id}`)).json.status).toBe('running');
      const byAdmin = await call(ADMIN, 'POST', `/api/v1/deliveries/${running.id}/cancel`);
      expect(byAdmin).toMatchObject({ status: 200, json: { status: 'cancelled' } });
    });

    it('should refuse prompt text that would reach a CLI program as an option, unless the template has "--"', async () => {
      const refused = await call(ADMIN, 'POST', '/api/v1/deliveries', {
        mode: 'cli',
        prompt: '--evil-flag=1',
        params: { command: echo, args: ['{prompt}'] },
      });
      expect(refused.status).toBe(400);
      expect((refused.json.details as { field: string }[]).map((d) => d.field)).toEqual(['prompt']);
      const separated = await create({
        mode: 'cli',
        prompt: '--evil-flag=1',
        params: { command: echo, args: ['--', '{prompt}'] },
      });
      await settle(separated.id);
      const done = (await call(ADMIN, 'GET', `/api/v1/deliveries/${separated.id}`)).json as unknown as Delivery;
      expect(JSON.parse(done.result?.stdout as string)).toEqual(['--', '--evil-flag=1']);
    });

    it('should show library paths relative to their root to roles below admin', async () => {
      const viewerSocket = new ProgressClient(base, VIEWER);
      const adminSocket = new ProgressClient(base, ADMIN);
      try {
        await Promise.all([viewerSocket.connected(), adminSocket.connected()]);
        await viewerSocket.subscribe({ topic: 'imports' });
        await adminSocket.subscribe({ topic: 'imports' });
        const started = await call(ADMIN, 'POST', '/api/v1/imports', {});
        expect(started.status).toBe(201);
        const id = started.json.id as string;
        await viewerSocket.waitFor((e) => e.event === 'import.completed' && e.payload.jobId === id, 30_000);
        await adminSocket.waitFor((e) => e.event === 'import.completed' && e.payload.jobId === id, 30_000);

        const seen = await call(VIEWER, 'GET', `/api/v1/imports/${id}`);
        expect(seen.text).not.toContain(root);
        expect(seen.json).toMatchObject({ roots: ['.'], failures: [{ path: 'characters/broken.safetensors' }] });
        expect((await call(EDITOR, 'GET', '/api/v1/imports')).text).not.toContain(root);
        expect((await call(VIEWER, 'GET', `/api/v1/jobs/import/${id}`)).text).not.toContain(root);
        const admin = await call(ADMIN, 'GET', `/api/v1/imports/${id}`);
        expect(admin.json).toMatchObject({
          roots: [root],
          failures: [{ path: join(root, 'characters', 'broken.safetensors') }],
        });

        const viewerProgress = viewerSocket.ofJob(id).filter((e) => e.event === 'import.progress');
        const adminProgress = adminSocket.ofJob(id).filter((e) => e.event === 'import.progress');
        expect(adminProgress.length).toBeGreaterThan(0);
        expect(JSON.stringify(adminProgress.map((e) => e.payload))).toContain(root);
        expect(viewerProgress.length).toBe(adminProgress.length);
        expect(JSON.stringify(viewerSocket.events.map((e) => e.payload))).not.toContain(root);
      } finally {
        viewerSocket.close();
        adminSocket.close();
      }
    });

    it('should cap job subscriptions per connection and connections per key', async () => {
      const first = new ProgressClient(base, CAPPED);
      const second = new ProgressClient(base, CAPPED);
      await Promise.all([first.connected(), second.connected()]);
      const third = new ProgressClient(base, CAPPED);
      await expect(third.connected()).rejects.toThrow(/too_many_connections/);
      third.close();
      const ids = ['1', '2', '3', '4'].map((n) => `00000000-0000-4000-8000-00000000000${n}`);
      for (const jobId of ids.slice(0, 3)) expect((await first.subscribe({ jobId })).ok).toBe(true);
      expect((await first.subscribe({ jobId: ids[0] })).ok).toBe(true);
      const refused = await first.subscribe({ jobId: ids[3] });
      expect(refused).toMatchObject({ ok: false, error: expect.stringContaining('SOCKET_MAX_JOB_SUBSCRIPTIONS') });
      await first.waitFor((e) => (e.event as string) === 'subscription.error');
      expect((await first.subscribe({ topic: 'jobs' })).ok).toBe(true);
      second.close();
      await new Promise((r) => setTimeout(r, 300));
      const again = new ProgressClient(base, CAPPED);
      await again.connected();
      again.close();
      first.close();
    });
  });
}
