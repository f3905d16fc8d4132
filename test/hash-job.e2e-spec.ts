import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { cliDatabase, importJson } from './support/cli-library.js';
import { type AdapterSpec, type TensorSpec, writeAdapter } from './support/corpus-builder.js';
import { queryRows } from './support/db-inspect.js';
import { ProgressClient } from './support/progress-client.js';
import { tempDir } from './support/test-services.js';

interface HashRow {
  relative_path: string;
  sha256: string | null;
  sha256_verified: unknown;
  warnings: string | string[];
  name: string;
}

interface RunBody {
  id: string;
  status: string;
  trigger: string;
  counts: { total: number; hashed: number; failed: number; mismatched: number; skipped: number; bytes: number };
  failures: { path: string; reason: string }[];
  error: string | null;
}

const CLAIM = 'cd'.repeat(32);
/** A tensor of `mib` MiB of float32. */
const big = (mib: number): TensorSpec[] => [{ name: 'w', dtype: 'F32', shape: [mib * 256 * 1024] }];
const verified = (v: unknown) => v === true || Number(v) === 1;

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`the background hash job on ${dialect}`, () => {
    const dir = tempDir(`hash-job-${dialect}`);
    const root = join(dir.path, 'loras');
    let env: Record<string, string>;
    let dbUrl: string;
    let dropDb: (() => Promise<void>) | undefined;
    let api: AppProcess | undefined;
    const real: Record<string, string> = {};

    const rows = () =>
      queryRows<HashRow>(dbUrl, 'SELECT relative_path, sha256, sha256_verified, warnings, name FROM adapters');
    const write = async (spec: AdapterSpec) => {
      real[spec.relPath] = (await writeAdapter(root, spec)).sha256;
    };
    const http = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${api!.baseUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const waitEnded = async (id: string, timeoutMs = 60_000): Promise<RunBody> => {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const run = (await http('GET', `/api/v1/hashes/runs/${id}`)).body as unknown as RunBody;
        if (run.status !== 'queued' && run.status !== 'running') return run;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`hash run ${id} did not end`);
    };
    const startApi = async (extra: Record<string, string> = {}) => {
      const port = await freePort();
      api = new AppProcess('api', { ...env, ...extra, PORT: String(port) }, port).start();
      await api.waitReady();
    };

    beforeAll(async () => {
      await write({ relPath: 'same/a.safetensors', safetensors: { seed: 'same' } });
      await write({ relPath: 'same/b.safetensors', safetensors: { seed: 'same' } });
      await write({ relPath: 'plain/c.safetensors', safetensors: { seed: 'c' } });
      // One sidecar claims a wrong SHA-256, another the right one.
      await write({
        relPath: 'claims/wrong.safetensors',
        safetensors: { seed: 'wrong' },
        civitaiInfo: {
          id: 11,
          modelId: 12,
          files: [{ name: 'wrong.safetensors', primary: true, sha256: CLAIM, sizeKB: 1 }],
        },
      });
      await write({
        relPath: 'claims/right.safetensors',
        safetensors: { seed: 'right' },
        civitaiInfo: (f) => ({
          id: 21,
          modelId: 22,
          files: [{ name: 'right.safetensors', primary: true, sha256: f.sha256.toUpperCase(), sizeKB: 1 }],
        }),
      });
      const db = await cliDatabase(dialect, 'hash_job', join(dir.path, 'data'));
      ({ dbUrl, drop: dropDb } = db);
      env = { ...db.env, LORA_ROOTS: root };
    }, 60_000);

    afterAll(async () => {
      await api?.stop();
      await dropDb?.();
      dir.remove();
    });

    it('should queue a hash run after a lazy import, and do it with `hash --wait`: every claim checked, duplicates proven', async () => {
      const summary = (await importJson(env)) as Awaited<ReturnType<typeof importJson>> & { hashRunId: string | null };
      expect(summary.counts).toMatchObject({ added: 5 });
      expect(summary.hashRunId).toEqual(expect.any(String));
      expect((await rows()).filter((r) => verified(r.sha256_verified))).toHaveLength(0);

      const { code, output } = await runCli(['hash', '--wait', '--json'], env);
      expect({ code, output }).toMatchObject({ code: 0 });
      const result = JSON.parse(output.split('\n').find((l) => l.startsWith('{"runId"'))!) as RunBody & {
        runId: string;
      };
      // The queued run was taken off the queue and done here, not a second one.
      expect(result).toMatchObject({
        runId: summary.hashRunId,
        status: 'completed',
        counts: { total: 5, hashed: 5, failed: 0, mismatched: 1, skipped: 0 },
      });
      const byPath = Object.fromEntries((await rows()).map((r) => [r.relative_path, r]));
      for (const [path, sha] of Object.entries(real)) {
        expect({ path, sha256: byPath[path].sha256, verified: verified(byPath[path].sha256_verified) }).toEqual({
          path,
          sha256: sha,
          verified: true,
        });
      }
      // The file wins over the wrong claim, and the adapter says so.
      expect(JSON.stringify(byPath['claims/wrong.safetensors'].warnings)).toContain(`SHA256 ${CLAIM} differs`);
      expect(JSON.stringify(byPath['claims/right.safetensors'].warnings)).not.toContain('differs');
      const runs = await queryRows<{ status: string }>(dbUrl, 'SELECT status FROM hash_runs');
      expect(runs).toEqual([{ status: 'completed' }]);
    }, 120_000);

    it('should hash in the API after an import, keep user edits, report progress and the verified count', async () => {
      await startApi();
      const progress = new ProgressClient(api!.baseUrl);
      await progress.connected();
      expect(await progress.subscribe({ topic: 'hashes' })).toMatchObject({ ok: true });
      expect((await http('GET', '/api/v1/hashes')).body).toMatchObject({ adapters: 5, verified: 5, unverified: 0 });

      await write({ relPath: 'new/d.safetensors', safetensors: { seed: 'd', tensors: big(2) } });
      await write({ relPath: 'new/e.safetensors', safetensors: { seed: 'e', tensors: big(2) } });
      // Imported without a hash run, so the user can edit one first.
      await importJson({ ...env, HASH_AFTER_IMPORT: 'false' });
      expect((await http('GET', '/api/v1/hashes')).body).toMatchObject({ adapters: 7, verified: 5, unverified: 2 });
      const [d] = await queryRows<{ id: string }>(
        dbUrl,
        `SELECT id FROM adapters WHERE relative_path = 'new/d.safetensors'`,
      );
      expect((await http('PATCH', `/api/v1/adapters/${d.id}`, { name: 'My own name' })).status).toBe(200);

      const started = await http('POST', '/api/v1/hashes/runs');
      expect(started).toMatchObject({ status: 201, body: { created: true, run: { trigger: 'api' } } });
      const id = (started.body.run as RunBody).id;
      // Asking again while it is active returns the same run.
      const again = await http('POST', '/api/v1/hashes/runs');
      expect(again.body).toMatchObject(
        (again.body.run as RunBody).status === 'completed'
          ? { run: { id: expect.any(String) } }
          : { created: false, run: { id } },
      );
      const run = await waitEnded(id);
      expect(run).toMatchObject({ status: 'completed', counts: { total: 2, hashed: 2, failed: 0, mismatched: 0 } });
      expect(run.counts.bytes).toBeGreaterThan(4 * 1024 * 1024);
      const done = await progress.waitFor((e) => e.event === 'hash.completed' && e.payload.jobId === id);
      expect(done.payload).toMatchObject({ status: 'completed', counts: { hashed: 2 } });
      expect(progress.events.some((e) => e.event === 'hash.progress' && e.payload.jobId === id)).toBe(true);
      progress.close();
      // A client that subscribes late gets the run's state and its last event.
      const late = new ProgressClient(api!.baseUrl);
      await late.connected();
      expect(await late.subscribe({ jobId: id })).toMatchObject({
        ok: true,
        state: { name: 'hash', status: 'completed', progress: 1 },
      });
      expect((await late.waitFor((e) => e.event === 'hash.completed')).payload).toMatchObject({ jobId: id });
      late.close();

      const byPath = Object.fromEntries((await rows()).map((r) => [r.relative_path, r]));
      expect(byPath['new/d.safetensors']).toMatchObject({ name: 'My own name', sha256: real['new/d.safetensors'] });
      expect(verified(byPath['new/e.safetensors'].sha256_verified)).toBe(true);
      expect((await http('GET', '/api/v1/hashes')).body).toMatchObject({
        adapters: 7,
        verified: 7,
        unverified: 0,
        activeRunId: null,
        lastRunId: id,
        lastRunStatus: 'completed',
      });
      // Every file hashed: the duplicate group is proven.
      expect((await http('GET', '/api/v1/adapters/duplicates?verified=true')).body).toMatchObject({
        total: 1,
        groups: [{ sha256: real['same/a.safetensors'], count: 2, verified: true }],
      });
      // An API import that leaves nothing unhashed starts no run; one that does, starts one.
      await write({ relPath: 'new/f.safetensors', safetensors: { seed: 'f' } });
      const imported = await http('POST', '/api/v1/imports', {});
      expect(imported.status).toBe(201);
      const deadline = Date.now() + 30_000;
      let status = (await http('GET', '/api/v1/hashes')).body;
      while (Date.now() < deadline && (status.verified as number) < 8) {
        await new Promise((r) => setTimeout(r, 200));
        status = (await http('GET', '/api/v1/hashes')).body;
      }
      expect(status).toMatchObject({ adapters: 8, verified: 8, lastRunStatus: 'completed' });
      const last = (await http('GET', `/api/v1/hashes/runs/${status.lastRunId as string}`)).body;
      expect(last).toMatchObject({ trigger: 'import', status: 'completed', counts: { total: 1, hashed: 1 } });
    }, 120_000);

    it('should stop at a cancel, keep what it hashed, and resume after a crash', async () => {
      await api?.stop();
      // 5 MiB/s over six 4 MiB files: about five seconds of work, long enough to cut it.
      for (const n of [1, 2, 3, 4, 5, 6])
        await write({ relPath: `slow/s${n}.safetensors`, safetensors: { seed: `s${n}`, tensors: big(4) } });
      await importJson({ ...env, HASH_AFTER_IMPORT: 'false' });
      await startApi({ HASH_JOB_MAX_MBPS: '5' });
      const id = ((await http('POST', '/api/v1/hashes/runs')).body.run as RunBody).id;
      let current = (await http('GET', `/api/v1/hashes/runs/${id}`)).body as unknown as RunBody;
      while (current.counts.hashed < 1) {
        await new Promise((r) => setTimeout(r, 50));
        current = (await http('GET', `/api/v1/hashes/runs/${id}`)).body as unknown as RunBody;
      }
      const cancelled = await http('POST', `/api/v1/hashes/runs/${id}/cancel`);
      expect(cancelled).toMatchObject({ status: 200, body: { outcome: 'signalled' } });
      const ended = await waitEnded(id);
      expect(ended.status).toBe('cancelled');
      const left = (await http('GET', '/api/v1/hashes')).body.unverified as number;
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThan(6);

      // A crash halfway: the next start takes the run up again with what is still unhashed.
      const second = ((await http('POST', '/api/v1/hashes/runs')).body.run as RunBody).id;
      current = (await http('GET', `/api/v1/hashes/runs/${second}`)).body as unknown as RunBody;
      while (current.status !== 'running') {
        await new Promise((r) => setTimeout(r, 50));
        current = (await http('GET', `/api/v1/hashes/runs/${second}`)).body as unknown as RunBody;
      }
      await api!.kill9();
      await startApi();
      const resumed = await waitEnded(second);
      expect(resumed.status).toBe('completed');
      expect((await http('GET', '/api/v1/hashes')).body).toMatchObject({ unverified: 0, verified: 14 });
      const slow = (await rows()).filter((r) => r.relative_path.startsWith('slow/'));
      for (const r of slow) expect(r.sha256).toBe(real[r.relative_path]);
    }, 120_000);
  });
}
