import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rename, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { cliDatabase, importJson } from './support/cli-library.js';
import { buildEdgeCaseCorpus, EDGE_CASES, generateCorpus, writeAdapter } from './support/corpus-builder.js';
import { execute, queryRows } from './support/db-inspect.js';
import { countedFacetCounts, keptFacetCounts } from './support/facet-counts.js';
import { ProgressClient } from './support/progress-client.js';
import { tempDir } from './support/test-services.js';

type Row = {
  id: string;
  relative_path: string;
  missing_since: unknown;
  notes: string | null;
  name: string;
  sha256: string | null;
};

/**
 * The whole-library facet counts the index keeps (base models, tags) equal a count from scratch. Answers them
 * keyed `facet: value`.
 */
async function expectExactFacetCountsAt(dbUrl: string): Promise<Record<string, number>> {
  const rows = (sql: string) => queryRows<{ value: string; n: unknown }>(dbUrl, sql);
  const all: Record<string, number> = {};
  for (const facet of ['base_model', 'tag'] as const) {
    const kept = await keptFacetCounts(rows, facet);
    expect(kept).toEqual(await countedFacetCounts(rows, facet));
    for (const [value, n] of Object.entries(kept)) all[`${facet}: ${value}`] = n;
  }
  return all;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`import on ${dialect}`, () => {
    const dir = tempDir(`import-${dialect}`);
    const root = join(dir.path, 'loras');
    let env: Record<string, string>;
    let dropDb: (() => Promise<void>) | undefined;
    let dbUrl: string;

    const importCli = (...args: string[]) => importJson(env, ...args);
    const rows = () =>
      queryRows<Row>(
        dbUrl,
        'SELECT id, relative_path, missing_since, notes, name, sha256 FROM adapters ORDER BY relative_path',
      );
    const expectExactFacetCounts = () => expectExactFacetCountsAt(dbUrl);

    beforeAll(async () => {
      await buildEdgeCaseCorpus(root);
      const db = await cliDatabase(dialect, 'import', join(dir.path, 'data'));
      ({ dbUrl, drop: dropDb } = db);
      env = { ...db.env, LORA_ROOTS: root };
    });

    afterAll(async () => {
      await dropDb?.();
      dir.remove();
    });

    it('should write nothing in a dry run but report what it would add', async () => {
      const summary = await importCli('--dry-run');
      expect(summary.runId).toBeNull();
      // 15 .safetensors files; 4 are broken (zero bytes, truncated header, non-JSON header, truncated data).
      expect(summary.counts).toMatchObject({ seen: 15, added: 11 });
      expect(summary.changes?.filter((c) => c.change === 'added')).toHaveLength(11);
      const existing = await queryRows(dbUrl, 'SELECT COUNT(*) AS n FROM adapters').catch(() => [{ n: 0 }]);
      expect(Number((existing[0] as { n: unknown }).n)).toBe(0);
    });

    it('should import every readable LoRA, report each broken file with a reason, and go on', async () => {
      const summary = await importCli();
      expect(summary.counts).toMatchObject({ seen: 15, added: 11, missing: 0, failed: 4 });
      const failed = (rel: string) => summary.failures.find((f) => f.path.endsWith(rel.split('/').pop()!))?.reason;
      expect(failed(EDGE_CASES.truncatedHeader)).toMatch(/truncated|too small|header/i);
      expect(failed(EDGE_CASES.zeroByte)).toMatch(/small/i);
      expect(failed(EDGE_CASES.notJsonHeader)).toMatch(/json/i);
      expect(failed(EDGE_CASES.truncatedData)).toMatch(/truncated/i);
      // A broken sidecar is no failed file: a warning on its adapter, which is imported.
      expect(summary.failures.find((f) => f.path.endsWith('corrupt_sidecar.civitai.info'))).toBeUndefined();
      const [corrupt] = await queryRows<{ warnings: unknown }>(
        dbUrl,
        'SELECT warnings FROM adapters WHERE relative_path = ?',
        [EDGE_CASES.corruptSidecar],
      );
      const warnings = (
        typeof corrupt.warnings === 'string' ? JSON.parse(corrupt.warnings) : corrupt.warnings
      ) as string[];
      expect(warnings.join('\n')).toMatch(/corrupt_sidecar\.civitai\.info.*json/i);
      const indexed = (await rows()).map((r) => r.relative_path);
      expect(indexed).toEqual(
        expect.arrayContaining([
          EDGE_CASES.good,
          EDGE_CASES.unicode,
          EDGE_CASES.spaces,
          EDGE_CASES.dots,
          EDGE_CASES.corruptSidecar,
        ]),
      );
      // Both copies of identical content are indexed; the sidecar-less name falls back to the header alias.
      const dupes = (await rows()).filter((r) => r.relative_path.startsWith('dup/'));
      expect(dupes).toHaveLength(2);
      const good = (await rows()).find((r) => r.relative_path === EDGE_CASES.good);
      expect(good?.name).toBe('My Painterly Style');
      // Every indexed adapter counts once under its base model.
      const counts = await expectExactFacetCounts();
      const baseModels = Object.entries(counts).filter(([key]) => key.startsWith('base_model: '));
      expect(baseModels.reduce((sum, [, n]) => sum + n, 0)).toBe(11);
    });

    it('should leave unchanged files alone on a second run', async () => {
      const summary = await importCli();
      expect(summary.counts).toMatchObject({ seen: 15, added: 0, updated: 0, unchanged: 11, moved: 0, missing: 0 });
      await expectExactFacetCounts();
    });

    it('should re-read a changed file and keep the fields its user edited', async () => {
      const [before] = (await rows()).filter((r) => r.relative_path === EDGE_CASES.spaces);
      await execute(dbUrl, `UPDATE adapters SET notes = ?, name = ?, user_edited = ? WHERE id = ?`, [
        'my notes',
        'My Own Name',
        dialect === 'postgres' ? JSON.stringify(['notes', 'name']) : '["notes","name"]',
        before.id,
      ]);
      await writeAdapter(root, {
        relPath: EDGE_CASES.spaces,
        safetensors: { seed: 'spaces-v2', metadata: { ss_output_name: 'renamed_in_header' } },
      });
      const summary = await importCli();
      expect(summary.counts).toMatchObject({ updated: 1, unchanged: 10, added: 0 });
      const [after] = (await rows()).filter((r) => r.relative_path === EDGE_CASES.spaces);
      expect(after.id).toBe(before.id);
      expect(after.notes).toBe('my notes');
      expect(after.name).toBe('My Own Name');
      await expectExactFacetCounts();
    });

    it('should notice an edited sidecar even when the LoRA file is untouched', async () => {
      const info = join(root, 'negative', 'not_on_civitai.civitai.info');
      await writeFile(
        info,
        JSON.stringify({ id: 9, modelId: 8, model: { name: 'Now On Civitai' }, baseModel: 'SD 1.5' }),
      );
      await utimes(info, new Date(), new Date(Date.now() + 5000));
      const summary = await importCli();
      expect(summary.counts).toMatchObject({ updated: 1, unchanged: 10 });
      expect((await rows()).find((r) => r.relative_path === EDGE_CASES.emptyCivitaiInfo)?.name).toBe('Now On Civitai');
      // Its base model changed with the sidecar: the counts moved with it.
      expect(await expectExactFacetCounts()).toHaveProperty(['base_model: SD 1.5']);
    });

    it('should keep the identity of a moved file and tombstone then restore a deleted one', async () => {
      const before = await rows();
      const moved = before.find((r) => r.relative_path === EDGE_CASES.unicode)!;
      await rename(join(root, EDGE_CASES.unicode), join(root, 'good', 'moved ✨.safetensors'));
      const gone = before.find((r) => r.relative_path === EDGE_CASES.dots)!;
      const dotsBytes = join(dir.path, 'dots.bak');
      await rename(join(root, EDGE_CASES.dots), dotsBytes);
      const summary = await importCli('--hash', 'full');
      expect(summary.counts).toMatchObject({ moved: 1, missing: 1, added: 0 });
      const after = await rows();
      expect(after.find((r) => r.id === moved.id)?.relative_path).toBe('good/moved ✨.safetensors');
      expect(after.find((r) => r.id === gone.id)?.missing_since).not.toBeNull();
      await expectExactFacetCounts();

      await rename(dotsBytes, join(root, EDGE_CASES.dots));
      const back = await importCli();
      expect(back.counts).toMatchObject({ restored: 1, missing: 0 });
      expect((await rows()).find((r) => r.id === gone.id)?.missing_since).toBeNull();
      await expectExactFacetCounts();
    });

    it('should refuse paths outside the library roots', async () => {
      const { code, output } = await runCli(['import', join(root, '..', '..')], env);
      expect(code).toBe(2);
      expect(output).toContain('inside a configured library root');
    });
  });
}

describe('import runs through the API', () => {
  const dir = tempDir('import-api');
  const root = join(dir.path, 'loras');
  let api: AppProcess;

  beforeAll(async () => {
    await generateCorpus(root, 300);
    const port = await freePort();
    api = new AppProcess(
      'api',
      { DATA_DIR: join(dir.path, 'data'), LORA_ROOTS: root, PORT: String(port) },
      port,
    ).start();
    await api.waitReady();
  });

  afterAll(async () => {
    await api.stop();
    dir.remove();
  });

  it('should run an import as a job, stream its progress to the imports topic and record the run', async () => {
    const client = new ProgressClient(api.baseUrl);
    try {
      await client.connected();
      await client.subscribe({ topic: 'imports' });
      const res = await fetch(`${api.baseUrl}/api/v1/imports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ hash: 'full' }),
      });
      expect(res.status).toBe(201);
      const { id } = (await res.json()) as { id: string };
      const done = await client.waitFor((e) => e.event === 'import.completed' && e.payload.jobId === id, 60_000);
      expect(done.payload).toMatchObject({ status: 'completed', counts: { seen: 300, added: 300, failed: 0 } });
      // Progress came first: the run's own events, with counts, files processed and (once known) the total.
      const progress = client.ofJob(id).filter((e) => e.event === 'import.progress');
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.every((e) => e.at <= done.at)).toBe(true);
      expect(progress[0].payload).toMatchObject({
        jobId: id,
        counts: { seen: expect.any(Number), added: expect.any(Number) },
      });
      for (const e of progress) expect(e.payload).toMatchObject({ processed: expect.any(Number) });
      const run = (await (await fetch(`${api.baseUrl}/api/v1/imports/${id}`)).json()) as Record<string, unknown>;
      expect(run).toMatchObject({ id, status: 'completed', hash: 'full', failureCount: 0, counts: { added: 300 } });
    } finally {
      client.close();
    }
  });

  it('should register one file by path, and refuse paths outside the roots and files that are not LoRAs', async () => {
    await writeAdapter(root, {
      relPath: 'late/new one.safetensors',
      safetensors: { seed: 'late', metadata: { ss_output_name: 'late_one' } },
    });
    await writeFile(join(root, 'late', 'notes.txt'), 'hello');
    const register = (path: string) =>
      fetch(`${api.baseUrl}/api/v1/adapters`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ path }),
      });
    const created = await register('late/new one.safetensors');
    expect(created.status).toBe(201);
    const adapter = (await created.json()) as { id: string; relativePath: string; name: string; sha256: string };
    expect(adapter).toMatchObject({ relativePath: 'late/new one.safetensors', name: 'late_one' });
    expect(adapter.sha256).toMatch(/^[0-9a-f]{64}$/);
    const again = await register(join(root, 'late', 'new one.safetensors'));
    expect(((await again.json()) as { id: string }).id).toBe(adapter.id);
    for (const [path, code] of [
      ['/etc/passwd', 'path_outside_roots'],
      ['../../../etc/passwd', 'path_outside_roots'],
      ['late/notes.txt', 'not_a_lora_file'],
    ] as const) {
      const res = await register(path);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code, details: [{ field: 'path' }] });
    }
  });

  it('should answer 400 for a path outside the roots or a `..` trick, and 404 for an unknown run', async () => {
    for (const paths of [['/etc'], ['../../etc'], [`${root}/../../..`]]) {
      const res = await fetch(`${api.baseUrl}/api/v1/imports`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ paths }),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'path_outside_roots', details: [{ field: 'paths[0]' }] });
    }
    const bad = await fetch(`${api.baseUrl}/api/v1/imports`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ hash: 'sometimes', force: true }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { details: { field: string }[] }).details.map((d) => d.field).sort()).toEqual([
      'force',
      'hash',
    ]);
    expect((await fetch(`${api.baseUrl}/api/v1/imports/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
  });
});

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`an import killed halfway on ${dialect}`, () => {
    const dir = tempDir(`import-kill-${dialect}`);
    const root = join(dir.path, 'loras');
    let drop: (() => Promise<void>) | undefined;

    afterAll(async () => {
      await drop?.();
      dir.remove();
    });

    it('should leave a consistent index that the next run completes', async () => {
      await generateCorpus(root, 3000);
      const db = await cliDatabase(dialect, 'import_kill', join(dir.path, 'data'));
      drop = db.drop;
      const env = { ...db.env, LORA_ROOTS: root };
      const dbUrl = db.dbUrl;
      const first = new AppProcess('cli', env).start(['import', '--hash', 'full']);
      // Wait until at least one batch is committed, then kill it without warning.
      const deadline = Date.now() + 30_000;
      let written = 0;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        written = await queryRows<{ n: number }>(dbUrl, 'SELECT COUNT(*) AS n FROM adapters')
          .then((r) => Number(r[0].n))
          .catch(() => 0);
        if (written > 0) break;
      }
      await first.kill9();
      expect(written).toBeGreaterThan(0);
      const partial = Number((await queryRows<{ n: number }>(dbUrl, 'SELECT COUNT(*) AS n FROM adapters'))[0].n);
      // Whole batches only (an import commits 2,000 rows at a time), or everything.
      expect(partial % 2000 === 0 || partial === 3000).toBe(true);

      const summary = await importJson(env);
      expect(summary.counts.added + summary.counts.unchanged).toBe(3000);
      expect(summary.counts.added).toBe(3000 - partial);
      const total = await queryRows<{ n: number; d: number }>(
        dbUrl,
        'SELECT COUNT(*) AS n, COUNT(DISTINCT relative_path) AS d FROM adapters',
      );
      expect(Number(total[0].n)).toBe(3000);
      expect(Number(total[0].d)).toBe(3000);
      // The killed run's last batch rolled back as a whole: the facet counts are exact.
      const counts = await expectExactFacetCountsAt(dbUrl);
      expect(Object.keys(counts).some((key) => key.startsWith('tag: '))).toBe(true);
    }, 90_000);
  });

  describe(`an import read by worker threads on ${dialect}`, () => {
    const dir = tempDir(`import-workers-${dialect}`);
    const root = join(dir.path, 'loras');
    const drops: (() => Promise<void>)[] = [];
    // Rows the full-text index finds for the word `lora`.
    const FOUND_SQL =
      dialect === 'sqlite'
        ? `SELECT COUNT(*) AS n FROM adapters_fts WHERE adapters_fts MATCH 'lora'`
        : `SELECT COUNT(*) AS n FROM adapters WHERE search_vector @@ to_tsquery('simple', 'lora')`;

    afterAll(async () => {
      for (const drop of drops) await drop();
      dir.remove();
    });

    it('should write the same rows and report the same failures as an import read on the main thread', async () => {
      // Enough files for the worker pool (it starts at 500), with every sidecar kind and the broken edge cases.
      await generateCorpus(join(root, 'generated'), 700);
      await buildEdgeCaseCorpus(join(root, 'edge'));
      const dbs = new Map<number, { env: Record<string, string>; dbUrl: string }>();
      const dbOf = async (workers: number) => {
        let db = dbs.get(workers);
        if (!db) {
          const made = await cliDatabase(dialect, `import_workers_${workers}`, join(dir.path, `data-${workers}`));
          drops.push(made.drop);
          db = { env: made.env, dbUrl: made.dbUrl };
          dbs.set(workers, db);
        }
        return db;
      };
      const run = async (workers: number, ...args: string[]) => {
        const { env: dbEnv, dbUrl } = await dbOf(workers);
        const env = { ...dbEnv, LORA_ROOTS: root, IMPORT_WORKERS: String(workers) };
        const summary = await importJson(env, ...args);
        expect(summary.workerThreads).toBe(workers);
        const rows = (
          await queryRows<Record<string, unknown>>(dbUrl, 'SELECT * FROM adapters ORDER BY relative_path')
        ).map(({ id: _id, created_at: _c, updated_at: _u, last_ingested_at: _l, ...rest }) => rest);
        const tags = await queryRows(
          dbUrl,
          'SELECT a.relative_path, t.tag FROM adapter_tags t JOIN adapters a ON a.id = t.adapter_id ORDER BY 1, 2',
        );
        const found = await queryRows<{ n: number }>(dbUrl, FOUND_SQL);
        const failures = [...summary.failures].sort(
          (a, b) => a.path.localeCompare(b.path) || a.reason.localeCompare(b.reason),
        );
        return { counts: summary.counts, failures, rows, tags, found: Number(found[0].n) };
      };
      const threaded = await run(2);
      const inline = await run(0);
      // A full re-read of a known library goes through the threads too, and changes nothing.
      const reread = await run(2, '--force-resync');
      expect(reread.counts).toMatchObject({ unchanged: threaded.counts.added, added: 0, updated: 0 });
      expect(reread.rows).toEqual(threaded.rows);
      // Every row rewritten, with its tags: the facet counts follow exactly.
      const counts = await expectExactFacetCountsAt((await dbOf(2)).dbUrl);
      expect(Object.keys(counts).some((key) => key.startsWith('tag: '))).toBe(true);

      expect(threaded.counts.added).toBeGreaterThanOrEqual(700);
      expect(threaded.counts.failed).toBeGreaterThan(0);
      expect(threaded.failures.length).toBe(threaded.counts.failed);
      expect(threaded.found).toBeGreaterThanOrEqual(700);
      expect(threaded.rows).toHaveLength(threaded.counts.added);
      expect(threaded).toEqual(inline);
    }, 120_000);
  });
}
