import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { cliDatabase, importJson } from './support/cli-library.js';
import { writeAdapter } from './support/corpus-builder.js';
import { queryRows } from './support/db-inspect.js';
import { FakeCivitai } from './support/fake-civitai.js';
import { tinyJpeg, tinyPng } from './support/images.js';
import { ProgressClient } from './support/progress-client.js';
import { createRedisPrefix, REDIS_URL, tempDir } from './support/test-services.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

// Civitai runs (bulk lookups and update checks), manual links, sidecars written beside files and the update schedule,
// against the fake Civitai: embedded on SQLite, and scaled out on PostgreSQL + Redis with the jobs on workers.
for (const mode of ['sqlite', 'postgres'] as const) {
  describe(`Civitai runs, links and update checks (${mode === 'sqlite' ? 'SQLite embedded' : 'PostgreSQL + Redis scale-out'})`, () => {
    const dir = tempDir(`civitai-runs-${mode}`);
    const redis = createRedisPrefix(`civitai-runs-${mode}`);
    const root = join(dir.path, 'loras');
    const fake = new FakeCivitai();
    let env: Record<string, string>;
    let dbUrl: string;
    let dropDb: (() => Promise<void>) | undefined;
    let api: AppProcess | undefined;
    const workers: AppProcess[] = [];
    const sha: Record<string, string> = {};

    const http = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${api!.baseUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as Json };
    };
    const idOf = async (relPath: string) =>
      (await queryRows<{ id: string }>(dbUrl, 'SELECT id FROM adapters WHERE relative_path = ?', [relPath]))[0].id;
    const waitEnded = async (runId: string, timeoutMs = 60_000): Promise<Json> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const run = (await http('GET', `/api/v1/civitai/runs/${runId}`)).body;
        if (!['queued', 'running'].includes(run.status as string) || Date.now() > deadline) return run;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const startRun = async (body: unknown): Promise<Json> => {
      const started = await http('POST', '/api/v1/civitai/runs', body);
      expect(started).toMatchObject({ status: 201, body: { created: true } });
      return started.body.run as Json;
    };

    const startProcesses = async (extra: Record<string, string>, workerCount: number) => {
      const civitaiEnv = {
        ...env,
        CIVITAI_URL: fake.url,
        CIVITAI_CACHE_HOURS: '0',
        CIVITAI_RETRIES: '2',
        CIVITAI_TIMEOUT_SECONDS: '2',
        CIVITAI_MAX_RETRY_AFTER_SECONDS: '2',
        CIVITAI_RATE_PER_SECOND: '50',
        CIVITAI_RATE_BURST: '50',
        CIVITAI_WRITE_SIDECARS: 'true',
        CIVITAI_AUTO_LOOKUP: 'true',
        ...extra,
      };
      for (let i = 0; i < (mode === 'postgres' ? workerCount : 0); i++) {
        const port = await freePort();
        workers.push(new AppProcess('worker', { ...civitaiEnv, WORKER_PORT: String(port) }, port).start());
      }
      const port = await freePort();
      api = new AppProcess('api', { ...civitaiEnv, PORT: String(port) }, port).start();
      await Promise.all([api.waitReady(), ...workers.map((w) => w.waitReady())]);
    };
    const stopProcesses = async () => {
      await Promise.all([api?.stop(), ...workers.splice(0).map((w) => w.stop())]);
    };

    beforeAll(async () => {
      await fake.start();
      for (const name of ['found', 'previewed', 'unknown', 'linked', 'merged']) {
        sha[name] = (await writeAdapter(root, { relPath: `${name}.safetensors`, safetensors: { seed: name } })).sha256;
      }
      // A preview of its own: a lookup must not replace it.
      writeFileSync(join(root, 'previewed.preview.jpeg'), tinyJpeg());
      const image = fake.addAsset('/img/ink.png', tinyPng(), 'image/png');
      fake.addModel({
        id: 300,
        name: 'Ink Wash',
        versions: [
          {
            id: 3001,
            baseModel: 'Illustrious',
            trainedWords: ['inkwash style'],
            images: [{ url: image }],
            files: [{ name: 'ink.safetensors', primary: true, sha256: sha.found.toUpperCase() }],
          },
        ],
      });
      fake.addModel({
        id: 310,
        name: 'Previewed',
        versions: [
          {
            id: 3101,
            images: [{ url: image }],
            files: [{ name: 'p.safetensors', primary: true, sha256: sha.previewed }],
          },
        ],
      });
      // Newest first, as Civitai lists them: 5003 is in early access, 5002 a plain newer version, 5001 the oldest.
      fake.addModel({
        id: 500,
        name: 'Paper Cut',
        versions: [
          {
            id: 5003,
            name: 'v3',
            baseModel: 'Flux.1 D',
            publishedAt: '2025-03-01T00:00:00.000Z',
            files: [{ name: 'paper_v3.safetensors', primary: true, sha256: 'A'.repeat(64), sizeKB: 2048 }],
            extra: { availability: 'EarlyAccess' },
          },
          {
            id: 5002,
            name: 'v2',
            baseModel: 'SDXL 1.0',
            publishedAt: '2025-02-01T00:00:00.000Z',
            files: [{ name: 'paper_v2.safetensors', primary: true, sha256: 'B'.repeat(64) }],
          },
          {
            id: 5001,
            name: 'v1',
            baseModel: 'SDXL 1.0',
            publishedAt: '2025-01-01T00:00:00.000Z',
            files: [{ name: 'paper_v1.safetensors', primary: true, sha256: 'C'.repeat(64) }],
          },
        ],
      });
      const db = await cliDatabase(mode, `civitai_runs`, join(dir.path, 'data'));
      ({ dbUrl, drop: dropDb } = db);
      env = {
        ...db.env,
        LORA_ROOTS: root,
        ...(mode === 'postgres' ? { REDIS_URL, REDIS_PREFIX: redis.prefix } : {}),
      };
      await importJson(env, '--hash', 'full');
      await startProcesses({}, 1);
    }, 120_000);

    afterAll(async () => {
      await stopProcesses();
      await fake.stop();
      await redis.clear();
      await dropDb?.();
      dir.remove();
    });

    it('should look up every unmatched file as a run with progress events, write sidecars beside found ones, and stay consistent on the next import', async () => {
      expect(fake.requests).toHaveLength(0);
      const client = new ProgressClient(api!.baseUrl);
      try {
        await client.connected();
        await client.subscribe({ topic: 'civitai' });
        const userEdit = await http('PATCH', `/api/v1/adapters/${await idOf('found.safetensors')}`, { name: 'My ink' });
        expect(userEdit.status).toBe(200);
        const run = await startRun({ kind: 'lookup' });
        expect(run).toMatchObject({ kind: 'lookup', trigger: 'api' });
        // One at a time: asking again while it is active returns it.
        const again = await http('POST', '/api/v1/civitai/runs', { kind: 'update_check' });
        if (again.body.created === false) expect(again.body.run.id).toBe(run.id);
        else await waitEnded(again.body.run.id as string);
        const ended = await waitEnded(run.id as string);
        expect(ended).toMatchObject({
          status: 'completed',
          error: null,
          counts: { total: 5, done: 5, found: 2, notFound: 3, failed: 0 },
        });
        const done = await client.waitFor((e) => e.event === 'civitai.completed' && e.payload.jobId === run.id);
        expect(done.payload).toMatchObject({ kind: 'lookup', status: 'completed', counts: { done: 5 } });
        expect(client.ofJob(run.id as string).some((e) => e.event === 'civitai.progress')).toBe(true);
      } finally {
        client.close();
      }
      // The found file got its .civitai.info and the version's first image as preview; the other kept its own preview.
      const info = JSON.parse(readFileSync(join(root, 'found.civitai.info'), 'utf8')) as Json;
      expect(info).toMatchObject({ id: 3001, modelId: 300 });
      expect(readFileSync(join(root, 'found.preview.png'))).toEqual(tinyPng());
      expect(existsSync(join(root, 'previewed.civitai.info'))).toBe(true);
      expect(readdirSync(root).filter((n) => n.startsWith('previewed.preview.'))).toEqual(['previewed.preview.jpeg']);
      expect(readdirSync(root).filter((n) => n.endsWith('.tmp'))).toEqual([]);
      const found = (await http('GET', `/api/v1/adapters/${await idOf('found.safetensors')}`)).body;
      expect(found).toMatchObject({
        name: 'My ink',
        civitaiModelId: 300,
        civitaiVersionId: 3001,
        hasPreview: true,
        hasWarnings: false,
      });
      // The next import reads the sidecars it wrote as what it already knew: nothing changed, no warning.
      const summary = (await importJson(env)) as unknown as Json;
      expect(summary.counts).toMatchObject({ updated: 0, added: 0, failed: 0 });
      expect((await http('GET', `/api/v1/adapters/${await idOf('found.safetensors')}`)).body).toEqual(found);
    }, 90_000);

    it('should link a file by model URL to the newest version, keep the user’s edits, refuse unknown references, and unlink', async () => {
      const id = await idOf('linked.safetensors');
      expect((await http('PATCH', `/api/v1/adapters/${id}`, { notes: 'mine', name: 'Paper mine' })).status).toBe(200);
      const linked = await http('POST', `/api/v1/civitai/adapters/${id}/link`, {
        reference: 'https://civitai.com/models/500/paper-cut',
      });
      expect(linked).toMatchObject({
        status: 200,
        body: { adapterId: id, modelId: 500, versionId: 5003, hashMatches: false },
      });
      expect((await http('GET', `/api/v1/adapters/${id}`)).body).toMatchObject({
        name: 'Paper mine',
        notes: 'mine',
        civitaiModelId: 500,
        civitaiVersionId: 5003,
        baseModel: 'Flux.1 D',
      });
      // A version that is not the model's.
      expect(
        await http('POST', `/api/v1/civitai/adapters/${id}/link`, {
          reference: 'https://civitai.com/models/300?modelVersionId=5001',
        }),
      ).toMatchObject({ status: 400, body: { details: [{ field: 'reference' }] } });
      expect(
        await http('POST', `/api/v1/civitai/adapters/${id}/link`, { reference: 'https://civitai.com/models/999' }),
      ).toMatchObject({ status: 404, body: { code: 'civitai_not_found' } });
      expect(await http('POST', `/api/v1/civitai/adapters/${id}/link`, { reference: '98765' })).toMatchObject({
        status: 404,
        body: { code: 'civitai_not_found' },
      });
      expect(
        (await http('POST', `/api/v1/civitai/adapters/${id}/link`, { reference: 'https://example.com/x' })).status,
      ).toBe(400);
      expect((await http('GET', `/api/v1/adapters/${id}`)).body).toMatchObject({ civitaiVersionId: 5003 });
      // A version id (an AIR here) links that version; then unlinking forgets it and keeps the edits.
      const merged = await idOf('merged.safetensors');
      expect(
        await http('POST', `/api/v1/civitai/adapters/${merged}/link`, {
          reference: 'urn:air:sdxl:lora:civitai:500@5002',
        }),
      ).toMatchObject({ status: 200, body: { versionId: 5002 } });
      expect((await http('DELETE', `/api/v1/civitai/adapters/${merged}/link`)).status).toBe(204);
      expect((await http('GET', `/api/v1/adapters/${merged}`)).body).toMatchObject({
        civitaiModelId: null,
        civitaiVersionId: null,
      });
    }, 60_000);

    it('should record newer versions of linked adapters, filter and count them, and check all as a run', async () => {
      const id = await idOf('linked.safetensors');
      expect((await http('POST', `/api/v1/civitai/adapters/${id}/link`, { reference: '5001' })).status).toBe(200);
      const checked = await http('POST', `/api/v1/civitai/adapters/${id}/check-updates`);
      expect(checked).toMatchObject({ status: 200, body: { modelId: 500, modelFound: true } });
      expect(checked.body.newer).toEqual([
        {
          id: 5003,
          name: 'v3',
          publishedAt: '2025-03-01T00:00:00.000Z',
          baseModel: 'Flux.1 D',
          fileSize: 2048 * 1024,
          earlyAccess: true,
        },
        expect.objectContaining({ id: 5002, name: 'v2', baseModel: 'SDXL 1.0', earlyAccess: false }),
      ]);
      const detail = (await http('GET', `/api/v1/adapters/${id}`)).body;
      expect(detail).toMatchObject({ hasUpdate: true, civitaiUpdateCheckedAt: expect.any(String) });
      expect((detail.civitaiNewerVersions as Json[]).map((v) => v.id)).toEqual([5003, 5002]);
      const withUpdate = (await http('GET', '/api/v1/adapters?hasUpdate=true')).body;
      expect(withUpdate).toMatchObject({ total: 1, items: [{ id, hasUpdate: true }] });
      expect((await http('GET', '/api/v1/adapters?hasUpdate=false')).body.total).toBe(4);
      expect((await http('GET', '/api/v1/civitai')).body).toMatchObject({ updatesAvailable: 1 });
      // Not linked: 409.
      const merged = await idOf('merged.safetensors');
      expect(await http('POST', `/api/v1/civitai/adapters/${merged}/check-updates`)).toMatchObject({
        status: 409,
        body: { code: 'not_linked' },
      });
      // The run checks every linked adapter: found (300), previewed (310), linked (500).
      const run = await startRun({ kind: 'update_check' });
      expect(await waitEnded(run.id as string)).toMatchObject({
        status: 'completed',
        counts: { total: 3, done: 3, found: 3, withUpdates: 1, failed: 0 },
      });
      // Linked to the newest version, the update is gone.
      expect((await http('POST', `/api/v1/civitai/adapters/${id}/link`, { reference: '5003' })).status).toBe(200);
      expect((await http('GET', '/api/v1/adapters?hasUpdate=true')).body.total).toBe(0);
      expect((await http('GET', '/api/v1/civitai')).body).toMatchObject({ updatesAvailable: 0 });
    }, 60_000);

    it('should fail a run on each Civitai fault with the reason, ride out short storms, and lose no user edit', async () => {
      const id = await idOf('unknown.safetensors');
      expect((await http('PATCH', `/api/v1/adapters/${id}`, { notes: 'keep me' })).status).toBe(200);
      const before = (await http('GET', `/api/v1/adapters/${id}`)).body;
      const failing = [
        { fault: { kind: 'hang' } as const, reason: 'civitai_timeout' },
        { fault: { kind: 'malformed' } as const, reason: 'civitai_bad_response' },
        { fault: { kind: 'oversized', bytes: 9 * 1024 * 1024 } as const, reason: 'civitai_response_too_large' },
        { fault: { kind: 'status', status: 503 } as const, reason: 'civitai_unavailable' },
        { fault: { kind: 'rate_limit', retryAfter: '3600' } as const, reason: 'civitai_rate_limited' },
      ];
      for (const c of failing) {
        fake.fault('by_hash', c.fault);
        const run = await startRun({ kind: 'lookup', adapterIds: [id] });
        const ended = await waitEnded(run.id as string);
        expect({ kind: c.fault.kind, status: ended.status, error: String(ended.error).split(':')[0] }).toEqual({
          kind: c.fault.kind,
          status: 'failed',
          error: c.reason,
        });
        expect(ended.counts).toMatchObject({ total: 1, done: 0 });
      }
      // A burst of 5xx and a short 429 storm (Retry-After 1 s) are waited out: the run completes.
      fake.fault('by_hash', { kind: 'status', status: 502, times: 1 });
      const burst = await startRun({ kind: 'lookup', adapterIds: [id] });
      expect(await waitEnded(burst.id as string)).toMatchObject({ status: 'completed', counts: { notFound: 1 } });
      fake.fault('by_hash', { kind: 'rate_limit', retryAfter: '1', times: 1 });
      const storm = await startRun({ kind: 'lookup', adapterIds: [id] });
      expect(await waitEnded(storm.id as string)).toMatchObject({ status: 'completed', counts: { notFound: 1 } });
      fake.fault('by_hash', null);
      const after = (await http('GET', `/api/v1/adapters/${id}`)).body;
      expect(after).toMatchObject({ notes: 'keep me', civitaiLookup: 'not_found' });
      // Only the times of the re-read differ: every fact, and the user's notes, are as before.
      expect({ ...after, updatedAt: null, lastIngestedAt: null }).toEqual({
        ...before,
        updatedAt: null,
        lastIngestedAt: null,
      });
    }, 120_000);

    it('should look new files up after their hash run (CIVITAI_AUTO_LOOKUP), and by CLI with --wait', async () => {
      const late = await writeAdapter(root, { relPath: 'late/late.safetensors', safetensors: { seed: 'late' } });
      fake.addModel({
        id: 600,
        name: 'Late',
        versions: [{ id: 6001, files: [{ name: 'late.safetensors', primary: true, sha256: late.sha256 }] }],
      });
      await importJson(env);
      const deadline = Date.now() + 60_000;
      let auto: Json | undefined;
      while (Date.now() < deadline) {
        auto = ((await http('GET', '/api/v1/civitai/runs?kind=lookup')).body as unknown as Json[]).find(
          (r) => r.trigger === 'hash',
        );
        if (auto && auto.status === 'completed') break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(auto).toMatchObject({ status: 'completed', counts: { total: 1, found: 1 } });
      expect((await http('GET', `/api/v1/adapters/${await idOf('late/late.safetensors')}`)).body).toMatchObject({
        civitaiVersionId: 6001,
      });
      const cli = await runCli(['civitai', 'lookup', '--wait', '--json'], { ...env, CIVITAI_URL: fake.url });
      expect(cli.code).toBe(0);
      const line = JSON.parse(cli.output.split('\n').find((l) => l.startsWith('{"runId"'))!) as Json;
      expect(line).toMatchObject({ kind: 'lookup', status: 'completed', counts: { total: 0 } });
    }, 90_000);

    if (mode === 'sqlite') {
      it('should cancel a run, and resume one after a crash after the adapters already done', async () => {
        await stopProcesses();
        // Two lookups a second: slow enough to cut the run halfway.
        await startProcesses({ CIVITAI_RATE_PER_SECOND: '2', CIVITAI_RATE_BURST: '1' }, 0);
        const ids = (await queryRows<{ id: string }>(dbUrl, 'SELECT id FROM adapters ORDER BY id')).map((r) => r.id);
        const cancelled = await startRun({ kind: 'lookup', adapterIds: ids });
        expect((await http('POST', `/api/v1/civitai/runs/${cancelled.id as string}/cancel`)).status).toBe(200);
        expect(await waitEnded(cancelled.id as string)).toMatchObject({ status: 'cancelled', error: 'cancelled' });

        const asked = fake.count('by_hash');
        const run = await startRun({ kind: 'lookup', adapterIds: ids });
        let current = await waitEnded(run.id as string, 0);
        while ((current.counts as Json).done < 3) {
          await new Promise((r) => setTimeout(r, 50));
          current = (await http('GET', `/api/v1/civitai/runs/${run.id as string}`)).body;
        }
        await api!.kill9();
        await startProcesses({ CIVITAI_RATE_PER_SECOND: '2', CIVITAI_RATE_BURST: '1' }, 0);
        const resumed = await waitEnded(run.id as string);
        expect(resumed).toMatchObject({ status: 'completed', counts: { total: ids.length, done: ids.length } });
        // Taken up after the adapters already done, not from the start (one or two may be asked twice).
        expect(fake.count('by_hash') - asked).toBeLessThanOrEqual(ids.length + 2);
        expect(fake.count('by_hash') - asked).toBeGreaterThanOrEqual(ids.length);
      }, 120_000);
    }

    if (mode === 'postgres') {
      it('should start scheduled update checks from one worker per period (CIVITAI_UPDATE_CHECK_HOURS)', async () => {
        await stopProcesses();
        const periodMs = 4000;
        await startProcesses({ CIVITAI_UPDATE_CHECK_HOURS: String(periodMs / 3_600_000) }, 2);
        await new Promise((r) => setTimeout(r, periodMs * 2.5));
        const scheduled = ((await http('GET', '/api/v1/civitai/runs?kind=update_check')).body as unknown as Json[])
          .filter((r) => r.trigger === 'schedule')
          .map((r) => Date.parse(r.createdAt as string))
          .sort();
        // Two workers ask every second; one run per period starts, whichever wins the period's lease.
        expect(scheduled.length).toBeGreaterThanOrEqual(2);
        for (let i = 1; i < scheduled.length; i++)
          expect(scheduled[i] - scheduled[i - 1]).toBeGreaterThanOrEqual(periodMs * 0.9);
      }, 90_000);
    }
  });
}
