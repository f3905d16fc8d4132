import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { AppProcess, freePort } from './support/app-process.js';
import { cliDatabase, importJson } from './support/cli-library.js';
import { writeAdapter } from './support/corpus-builder.js';
import { queryRows } from './support/db-inspect.js';
import { FakeCivitai } from './support/fake-civitai.js';
import { tempDir } from './support/test-services.js';

const KEY = 'civitai-token-never-shown-42';

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`Civitai lookups by hash on ${dialect}`, () => {
    const dir = tempDir(`civitai-lookup-${dialect}`);
    const root = join(dir.path, 'loras');
    const fake = new FakeCivitai();
    let env: Record<string, string>;
    let dbUrl: string;
    let dropDb: (() => Promise<void>) | undefined;
    let api: AppProcess | undefined;

    const http = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${api!.baseUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const idOf = async (relPath: string) =>
      (await queryRows<{ id: string }>(dbUrl, 'SELECT id FROM adapters WHERE relative_path = ?', [relPath]))[0].id;

    beforeAll(async () => {
      await fake.start();
      const known = await writeAdapter(root, { relPath: 'known.safetensors', safetensors: { seed: 'known' } });
      await writeAdapter(root, { relPath: 'unknown.safetensors', safetensors: { seed: 'unknown' } });
      fake.addModel({
        id: 300,
        name: 'Ink Wash',
        creator: 'inkmaster',
        tags: ['style', 'ink'],
        versions: [
          {
            id: 3001,
            name: 'v1',
            baseModel: 'Illustrious',
            trainedWords: ['inkwash style'],
            files: [{ name: 'ink_wash_v1.safetensors', primary: true, sha256: known.sha256.toUpperCase() }],
          },
        ],
      });
      const db = await cliDatabase(dialect, 'civitai_lookup', join(dir.path, 'data'));
      ({ dbUrl, drop: dropDb } = db);
      env = { ...db.env, LORA_ROOTS: root };
      await importJson(env, '--hash', 'full');
      const port = await freePort();
      api = new AppProcess(
        'api',
        {
          ...env,
          PORT: String(port),
          CIVITAI_URL: fake.url,
          CIVITAI_API_KEY: KEY,
          CIVITAI_CACHE_HOURS: '0',
          CIVITAI_RETRIES: '2',
          // Long enough to stream a refused 2 MB answer on a loaded machine; the hang case still ends in seconds.
          CIVITAI_TIMEOUT_SECONDS: '2',
          CIVITAI_MAX_RESPONSE_MB: '1',
          CIVITAI_MAX_RETRY_AFTER_SECONDS: '5',
        },
        port,
      ).start();
      await api.waitReady();
    }, 90_000);

    afterAll(async () => {
      await api?.stop();
      await fake.stop();
      await dropDb?.();
      dir.remove();
    });

    it('should ask Civitai nothing until a user asks, and never show the key', async () => {
      expect(fake.requests).toHaveLength(0);
      const status = await http('GET', '/api/v1/civitai');
      expect(status).toMatchObject({ status: 200, body: { url: fake.url, apiKeyConfigured: true } });
      expect(JSON.stringify(status.body)).not.toContain(KEY);
    });

    it('should store a found version’s facts like a .civitai.info, keep the user’s edits, and keep them across a resync', async () => {
      const id = await idOf('known.safetensors');
      expect((await http('PATCH', `/api/v1/adapters/${id}`, { name: 'My ink' })).status).toBe(200);
      const looked = await http('POST', `/api/v1/civitai/adapters/${id}/lookup`);
      expect(looked).toMatchObject({
        status: 200,
        body: { adapterId: id, found: true, modelId: 300, versionId: 3001, cached: false },
      });
      expect(fake.requests.at(-1)).toMatchObject({ endpoint: 'by_hash', authorization: `Bearer ${KEY}` });
      const expected = {
        name: 'My ink',
        civitaiModelId: 300,
        civitaiVersionId: 3001,
        civitaiLookup: 'found',
        trainedWords: ['inkwash style'],
        baseModel: 'Illustrious',
      };
      expect((await http('GET', `/api/v1/adapters/${id}`)).body).toMatchObject(expected);
      // A resync re-reads the file and merges the stored answer again: nothing is lost.
      await importJson(env, '--force-resync');
      expect((await http('GET', `/api/v1/adapters/${id}`)).body).toMatchObject(expected);
    });

    it('should mark a file Civitai does not know as not on Civitai, with the time it asked', async () => {
      const id = await idOf('unknown.safetensors');
      const looked = await http('POST', `/api/v1/civitai/adapters/${id}/lookup`);
      expect(looked).toMatchObject({ status: 200, body: { found: false, modelId: null, versionId: null } });
      expect((await http('GET', `/api/v1/adapters/${id}`)).body).toMatchObject({
        civitaiLookup: 'not_found',
        civitaiModelId: null,
      });
      const [row] = await queryRows<{ civitai_checked_at: unknown }>(
        dbUrl,
        'SELECT civitai_checked_at FROM adapters WHERE id = ?',
        [id],
      );
      expect(row.civitai_checked_at).not.toBeNull();
    });

    it('should answer each Civitai fault with a 502 or 504 that says why, and change nothing', async () => {
      const id = await idOf('known.safetensors');
      const before = (await http('GET', `/api/v1/adapters/${id}`)).body;
      const cases = [
        { fault: { kind: 'status', status: 503 } as const, status: 502, code: 'civitai_unavailable' },
        { fault: { kind: 'hang' } as const, status: 504, code: 'civitai_timeout' },
        { fault: { kind: 'malformed' } as const, status: 502, code: 'civitai_bad_response' },
        {
          fault: { kind: 'oversized', bytes: 2 * 1024 * 1024 } as const,
          status: 502,
          code: 'civitai_response_too_large',
        },
        { fault: { kind: 'rate_limit', retryAfter: '3600' } as const, status: 502, code: 'civitai_rate_limited' },
        { fault: { kind: 'status', status: 401 } as const, status: 502, code: 'civitai_needs_api_key' },
      ];
      try {
        for (const c of cases) {
          fake.fault('by_hash', c.fault);
          const res = await http('POST', `/api/v1/civitai/adapters/${id}/lookup`);
          expect({ kind: c.fault.kind, status: res.status, code: res.body.code }).toEqual({
            kind: c.fault.kind,
            status: c.status,
            code: c.code,
          });
          expect(JSON.stringify(res.body)).not.toContain(KEY);
        }
      } finally {
        // A failed case must not leave its fault behind for the tests after it.
        fake.fault('by_hash', null);
      }
      expect((await http('GET', `/api/v1/adapters/${id}`)).body).toEqual(before);
    }, 60_000);

    it('should refuse a file whose hash was not computed yet (409) and an unknown adapter (404)', async () => {
      await writeAdapter(root, { relPath: 'fresh.safetensors', safetensors: { seed: 'fresh' } });
      await importJson({ ...env, HASH_AFTER_IMPORT: 'false' });
      const res = await http('POST', `/api/v1/civitai/adapters/${await idOf('fresh.safetensors')}/lookup`);
      expect(res).toMatchObject({ status: 409, body: { code: 'hash_not_computed' } });
      expect((await http('POST', `/api/v1/civitai/adapters/${randomUUID()}/lookup`)).status).toBe(404);
      expect((await http('POST', '/api/v1/civitai/adapters/not-a-uuid/lookup')).status).toBe(400);
    });

    it('should look up every unmatched adapter as a job, and not ask again about files Civitai did not know', async () => {
      const b1 = await writeAdapter(root, { relPath: 'bulk/b1.safetensors', safetensors: { seed: 'b1' } });
      await writeAdapter(root, { relPath: 'bulk/b2.safetensors', safetensors: { seed: 'b2' } });
      fake.addModel({
        id: 400,
        name: 'Bulk One',
        versions: [{ id: 4001, files: [{ name: 'b1.safetensors', primary: true, sha256: b1.sha256 }] }],
      });
      await importJson(env, '--hash', 'full');
      const runJob = async (body: unknown) => {
        const started = await http('POST', '/api/v1/civitai/lookups', body);
        expect(started).toMatchObject({ status: 201, body: { name: 'civitai-lookup' } });
        const deadline = Date.now() + 30_000;
        for (;;) {
          const job = (await http('GET', `/api/v1/jobs/civitai-lookup/${started.body.id as string}`)).body;
          if (job.status === 'completed' || job.status === 'failed' || Date.now() > deadline) return job;
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      // known is matched and unknown was asked a moment ago: the two new files and fresh (hashed by this import) are.
      expect(await runJob({})).toMatchObject({
        status: 'completed',
        progress: 1,
        result: { counts: { total: 3, found: 1, notFound: 2, failed: 0 } },
      });
      expect((await http('GET', `/api/v1/adapters/${await idOf('bulk/b1.safetensors')}`)).body).toMatchObject({
        civitaiModelId: 400,
        civitaiVersionId: 4001,
      });
      const asked = fake.count('by_hash');
      expect(await runJob({})).toMatchObject({ status: 'completed', result: { counts: { total: 0 } } });
      expect(fake.count('by_hash')).toBe(asked);
      // Named adapters are asked whatever the recheck period says; one not hashed yet fails alone.
      await writeAdapter(root, { relPath: 'bulk/late.safetensors', safetensors: { seed: 'late' } });
      await importJson({ ...env, HASH_AFTER_IMPORT: 'false' });
      const ids = [await idOf('unknown.safetensors'), await idOf('bulk/late.safetensors')];
      expect(await runJob({ adapterIds: ids })).toMatchObject({
        status: 'completed',
        result: { counts: { total: 2, notFound: 1, failed: 1 }, failures: [{ adapterId: ids[1] }] },
      });
      expect((await http('POST', '/api/v1/civitai/lookups', { adapterIds: ['nope'] })).status).toBe(400);
    }, 60_000);
  });
}
