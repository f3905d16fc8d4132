import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { copyFile, mkdir, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AppProcess, freePort, runCli } from './support/app-process.js';
import { cliDatabase, importJson } from './support/cli-library.js';
import {
  buildSafetensors,
  generateCorpus,
  type LoraManagerSpec,
  type TensorSpec,
  writeA1111Json,
  writeAdapter,
} from './support/corpus-builder.js';
import { queryRows } from './support/db-inspect.js';
import { countedFacetCounts, keptFacetCounts } from './support/facet-counts.js';
import { tempDir } from './support/test-services.js';

// The importer's resync as a user meets it: dry runs that write nothing, edits that survive a re-read, moves
// found by content, hashes reused by (size, mtime), imports of one folder, and the CLI's plain-text output.

// Response bodies are checked field by field with expect(); a loose type keeps the assertions readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type JsonBody = any;

const json = { 'content-type': 'application/json' };

/** The id a library root gets from its real path (see `rootIdOf` in library-roots.ts). */
const rootIdOf = (root: string): string => createHash('sha256').update(realpathSync(root)).digest('hex').slice(0, 12);

/** Far enough from "now" that no write during the test lands on the same mtime. */
const later = (seconds: number): Date => new Date(Date.now() + seconds * 1000);

/** Small kohya-style tensors; `elems` sets the size of the file. */
const tensors = (elems: number): TensorSpec[] => [
  { name: 'lora_unet_mid_block_attentions_0_proj_in.alpha', dtype: 'F16', shape: [] },
  { name: 'lora_unet_mid_block_attentions_0_proj_in.lora_down.weight', dtype: 'F16', shape: [1, elems] },
  { name: 'lora_unet_mid_block_attentions_0_proj_in.lora_up.weight', dtype: 'F16', shape: [elems, 1] },
];

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const byPath = (a: { path: string }, b: { path: string }): number => a.path.localeCompare(b.path);

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`import resync on ${dialect}`, () => {
    const dir = tempDir(`resync-${dialect}`);
    // One library root per test, so each test's imports see only its own files.
    const rootOf = (name: string): string => join(dir.path, 'roots', name);
    const ROOTS = ['dry', 'edit', 'move', 'hash', 'sub', 'cli'].map(rootOf);
    let base: Record<string, string>;
    let dbUrl: string;
    let dropDb: (() => Promise<void>) | undefined;
    let api: AppProcess | undefined;

    /** The CLI, with only this root configured (as a user with one library would run it). */
    const cliEnv = (root: string): Record<string, string> => ({ ...base, LORA_ROOTS: root });
    const importCli = (root: string, ...args: string[]) => importJson(cliEnv(root), ...args);
    const rows = <T = Record<string, unknown>>(root: string, columns = '*'): Promise<T[]> =>
      queryRows<T>(dbUrl, `SELECT ${columns} FROM adapters WHERE root_id = ? ORDER BY relative_path`, [rootIdOf(root)]);
    const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: JsonBody }> => {
      const res = await fetch(`${api!.baseUrl}/api/v1${path}`, {
        method,
        headers: json,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
    const getAdapter = async (id: string): Promise<JsonBody> => {
      const res = await call('GET', `/adapters/${id}`);
      expect(res.status).toBe(200);
      return res.body;
    };
    const patchAdapter = async (id: string, patch: Record<string, unknown>): Promise<JsonBody> => {
      const res = await call('PATCH', `/adapters/${id}`, patch);
      expect(res).toMatchObject({ status: 200 });
      return res.body;
    };
    /** The whole-library facet counts the index keeps equal a count from scratch. */
    const expectExactFacetCounts = async (): Promise<void> => {
      const q = (sql: string) => queryRows<{ value: string; n: unknown }>(dbUrl, sql);
      for (const facet of ['base_model', 'tag'] as const) {
        expect(await keptFacetCounts(q, facet)).toEqual(await countedFacetCounts(q, facet));
      }
    };

    beforeAll(async () => {
      for (const root of ROOTS) await mkdir(root, { recursive: true });
      const port = await freePort();
      ({ env: base, dbUrl, drop: dropDb } = await cliDatabase(dialect, 'resync', join(dir.path, 'data')));
      api = new AppProcess('api', { ...base, LORA_ROOTS: ROOTS.join(','), PORT: String(port) }, port).start();
      await api.waitReady();
    }, 90_000);

    afterAll(async () => {
      await api?.stop();
      await dropDb?.();
      dir.remove();
    });

    it('should write nothing in a dry run of a changed, a moved, a deleted and a new file, and report each', async () => {
      const root = rootOf('dry');
      // d0000/lora_00000..02, d0001/lora_00003..05, with sidecars.
      await generateCorpus(root, 6, { perDir: 3 });
      expect((await importCli(root, '--hash', 'full')).counts).toMatchObject({ seen: 6, added: 6, failed: 0 });

      const changed = 'd0000/lora_00000.safetensors';
      await writeAdapter(root, {
        relPath: changed,
        safetensors: { seed: 'changed', metadata: { ss_output_name: 'changed' } },
      });
      await utimes(join(root, changed), later(60), later(60));
      await rename(join(root, 'd0000/lora_00001.safetensors'), join(root, 'd0001/moved here.safetensors'));
      await unlink(join(root, 'd0001/lora_00004.safetensors'));
      await writeAdapter(root, {
        relPath: 'd0001/new_one.safetensors',
        safetensors: { seed: 'new', tensors: tensors(16) },
      });

      const snapshot = async () => ({
        adapters: await queryRows(dbUrl, 'SELECT * FROM adapters ORDER BY id'),
        tags: await queryRows(dbUrl, 'SELECT * FROM adapter_tags ORDER BY adapter_id, tag'),
        runs: await queryRows(dbUrl, 'SELECT * FROM import_runs ORDER BY id'),
      });
      const before = await snapshot();
      expect(before.adapters.length).toBeGreaterThanOrEqual(6);

      const dry = await importCli(root, '--dry-run');
      expect(dry).toMatchObject({ runId: null, dryRun: true });
      expect(dry.counts).toEqual({
        seen: 6,
        added: 1,
        updated: 1,
        unchanged: 3,
        moved: 1,
        missing: 1,
        restored: 0,
        failed: 0,
        // The moved file (to match it) and the changed one (its row had a computed hash).
        hashed: 2,
      });
      expect([...(dry.changes ?? [])].sort(byPath)).toEqual(
        [
          { path: changed, change: 'updated' },
          { path: 'd0001/moved here.safetensors', change: 'moved', from: 'd0000/lora_00001.safetensors' },
          { path: 'd0001/lora_00004.safetensors', change: 'missing' },
          { path: 'd0001/new_one.safetensors', change: 'added' },
        ].sort(byPath),
      );
      // The same dry run as a table: it says it wrote nothing and lists what would change.
      const table = await runCli(['import', '--dry-run'], cliEnv(root));
      expect(table.code).toBe(0);
      expect(table.output).toContain('Dry run (nothing written)');
      expect(table.output).toMatch(
        /^\s+moved\s+d0001\/moved here\.safetensors \(from d0000\/lora_00001\.safetensors\)$/m,
      );
      expect(table.output).toMatch(/^\s+missing\s+d0001\/lora_00004\.safetensors$/m);

      // Not one column of one row changed: no tombstone, no new row, no run recorded, no timestamp touched.
      expect(await snapshot()).toEqual(before);

      // The real run then does exactly what the dry run announced.
      const real = await importCli(root);
      expect(real.counts).toEqual(dry.counts);
      const after = await rows<{ relative_path: string; missing_since: unknown }>(root, 'relative_path, missing_since');
      expect(after.filter((r) => r.missing_since !== null).map((r) => r.relative_path)).toEqual([
        'd0001/lora_00004.safetensors',
      ]);
      expect(after.map((r) => r.relative_path)).not.toContain('d0000/lora_00001.safetensors');
    });

    it('should keep every field edited through the API when the file and its sidecar change', async () => {
      const root = rootOf('edit');
      const rel = 'styles/ink.safetensors';
      const sidecar = join(root, 'styles', 'ink.metadata.json');
      const sidecarSpec = (v: number, baseModel: string, nsfwLevel: number): LoraManagerSpec => ({
        modelName: `Ink Style v${v}`,
        baseModel,
        tags: [`from-file-${v}`],
        favorite: false,
        usageTips: { strength: 0.1 * v, strength_min: 0.05 * v, strength_max: 0.2 * v },
        civitai: {
          id: 700 + v,
          modelId: 70,
          name: `v${v}`,
          baseModel,
          trainedWords: [`inkword${v}`],
          nsfwLevel,
          model: { name: `Ink Style v${v}`, tags: [`from-file-${v}`] },
        },
      });
      await writeAdapter(root, {
        relPath: rel,
        safetensors: { seed: 'ink-1', tensors: tensors(16), metadata: { ss_output_name: 'ink_v1' } },
        loraManager: sidecarSpec(1, 'SDXL 1.0', 1),
      });
      expect((await importCli(root)).counts).toMatchObject({ added: 1, failed: 0 });
      const [{ id }] = await rows<{ id: string }>(root, 'id');
      const imported = await getAdapter(id);
      // The sidecar was read: the file's values are there before the user edits them.
      expect(imported).toMatchObject({
        name: 'Ink Style v1',
        baseModel: 'SDXL 1.0',
        trainedWords: ['inkword1'],
        userEdited: [],
      });

      const edits = {
        name: 'My Ink',
        triggerWords: ['my ink', 'bold lines'],
        preferredWeight: 0.65,
        weightMin: 0.4,
        weightMax: 0.9,
        notes: 'best at 0.65 with a pen prompt',
        favorite: true,
        active: true, // imports start inactive: the edit must differ from what the files give
        ordinal: 7,
        nsfwOverride: 4,
        baseModel: 'Pony',
        tags: ['Mine', 'ink work'],
      };
      const patched = await patchAdapter(id, edits);
      const userView = {
        ...edits,
        tags: ['mine', 'ink work'],
        nsfwMax: 4,
        userEdited: expect.arrayContaining(Object.keys(edits)),
      };
      expect(patched).toMatchObject(userView);

      // A new version of the file (other weights, another size) and of its sidecar (every field different).
      const v2 = await writeAdapter(root, {
        relPath: rel,
        safetensors: { seed: 'ink-2', tensors: tensors(48), metadata: { ss_output_name: 'ink_v2' } },
        loraManager: sidecarSpec(2, 'SD 1.5', 2),
      });
      const mtime = later(120);
      await utimes(join(root, rel), mtime, mtime);
      await utimes(sidecar, mtime, mtime);
      expect(v2.size).not.toBe(imported.fileSize);

      const summary = await importCli(root);
      expect(summary.counts).toMatchObject({ seen: 1, updated: 1, added: 0, unchanged: 0, failed: 0 });
      const after = await getAdapter(id);
      // The user's values, all of them…
      expect(after).toMatchObject(userView);
      // …next to what the new file and sidecar say.
      expect(after).toMatchObject({
        id,
        relativePath: rel,
        fileSize: v2.size,
        fileMtimeMs: (await stat(join(root, rel))).mtimeMs,
        trainedWords: ['inkword2'],
        nsfwLevel: 2,
        headerMetadata: { ss_output_name: 'ink_v2' },
        missingSince: null,
      });
      expect(Date.parse(after.lastIngestedAt)).toBeGreaterThan(Date.parse(imported.lastIngestedAt));
      // What a user searches by still finds it: their trigger word and their tag.
      const found = await call('GET', `/adapters?q=${encodeURIComponent('bold lines')}`);
      expect(found.body.items.map((i: { id: string }) => i.id)).toEqual([id]);
      const tagged = await call('GET', '/adapters?tags=mine');
      expect(tagged.body.items.map((i: { id: string }) => i.id)).toEqual([id]);
      await expectExactFacetCounts();
    });

    it('should find a file moved to another folder with a new mtime by its content, and keep its id and edits', async () => {
      const root = rootOf('move');
      await writeAdapter(root, {
        relPath: 'a/travels.safetensors',
        safetensors: { seed: 'travels', tensors: tensors(24) },
      });
      await writeAdapter(root, {
        relPath: 'a/stays.safetensors',
        safetensors: { seed: 'stays', tensors: tensors(24) },
      });
      expect((await importCli(root, '--hash', 'full')).counts).toMatchObject({ added: 2, failed: 0 });
      const id = (await rows<{ id: string; relative_path: string }>(root, 'id, relative_path')).find(
        (r) => r.relative_path === 'a/travels.safetensors',
      )!.id;
      const edits = { name: 'Travelling LoRA', notes: 'moved around', favorite: true, triggerWords: ['wanderer'] };
      await patchAdapter(id, edits);

      // Copy then delete (a move across disks): same bytes, another folder, another mtime.
      const moveTo = async (from: string, to: string, hashArgs: string[]) => {
        await mkdir(dirname(join(root, to)), { recursive: true });
        await copyFile(join(root, from), join(root, to));
        await unlink(join(root, from));
        await utimes(join(root, to), later(300), later(300));

        const dry = await importCli(root, '--dry-run', ...hashArgs);
        expect(dry.changes).toEqual([{ path: to, change: 'moved', from }]);
        const summary = await importCli(root, ...hashArgs);
        expect(summary.counts).toMatchObject({ seen: 2, moved: 1, added: 0, missing: 0, unchanged: 1 });

        const adapter = await getAdapter(id);
        expect(adapter).toMatchObject({ ...edits, id, relativePath: to, missingSince: null });
        const all = await rows<{ id: string; relative_path: string; missing_since: unknown }>(
          root,
          'id, relative_path, missing_since',
        );
        expect(all).toHaveLength(2);
        expect(all.filter((r) => r.missing_since !== null)).toEqual([]);
        expect(all.filter((r) => r.id === id).map((r) => r.relative_path)).toEqual([to]);
      };
      // The default (lazy) policy hashes the new file because a vanished one has its size…
      await moveTo('a/travels.safetensors', 'b/deep/renamed.safetensors', []);
      // …and `--hash full` hashes it anyway.
      await moveTo('b/deep/renamed.safetensors', 'c/again.safetensors', ['--hash', 'full']);
    });

    it('should reuse a hash while size and mtime are unchanged, and hash changed content again', async () => {
      const root = rootOf('hash');
      const fixed = new Date('2024-01-02T03:04:05.000Z');
      const spec = (seed: string) => ({ seed, tensors: tensors(32), metadata: { ss_output_name: 'cached' } });
      const cached = await writeAdapter(root, {
        relPath: 'h/cached.safetensors',
        safetensors: spec('one'),
        a1111: { description: 'first' },
      });
      const changed = await writeAdapter(root, { relPath: 'h/changed.safetensors', safetensors: spec('two') });
      await utimes(cached.path, fixed, fixed);
      expect((await importCli(root, '--hash', 'full')).counts).toMatchObject({ added: 2, failed: 0 });
      type HashRow = { relative_path: string; sha256: string | null; description: string | null };
      const hashes = async () =>
        Object.fromEntries(
          (await rows<HashRow>(root, 'relative_path, sha256, description')).map((r) => [r.relative_path, r]),
        );
      expect((await hashes())['h/cached.safetensors'].sha256).toBe(cached.sha256);
      expect((await hashes())['h/changed.safetensors'].sha256).toBe(changed.sha256);

      // Other bytes of the same size, the old mtime put back: only an edited sidecar makes the file re-read.
      const impostor = buildSafetensors(spec('impostor'));
      expect(impostor.size).toBe(cached.size);
      expect(impostor.sha256).not.toBe(cached.sha256);
      await writeFile(cached.path, impostor.bytes);
      await utimes(cached.path, fixed, fixed);
      expect((await stat(cached.path)).mtimeMs).toBe(fixed.getTime());
      const sidecar = join(root, 'h', 'cached.json');
      await writeA1111Json(sidecar, { description: 'second' });
      await utimes(sidecar, later(60), later(60));
      const resync = await importCli(root, '--hash', 'full');
      expect(resync.counts).toMatchObject({ updated: 1, unchanged: 1, added: 0 });
      const afterResync = (await hashes())['h/cached.safetensors'];
      expect(afterResync.description).toBe('second');
      expect(afterResync.sha256).toBe(cached.sha256);

      // New content with a new mtime: hashed again.
      const edited = buildSafetensors(spec('two-edited'));
      await writeFile(changed.path, edited.bytes);
      await utimes(changed.path, later(120), later(120));
      const rehash = await importCli(root, '--hash', 'full');
      expect(rehash.counts).toMatchObject({ updated: 1, unchanged: 1, added: 0 });
      expect((await hashes())['h/changed.safetensors'].sha256).toBe(edited.sha256);
      expect((await hashes())['h/cached.safetensors'].sha256).toBe(cached.sha256);
    });

    it('should tombstone only vanished files under the folder given, never files elsewhere in the root', async () => {
      const root = rootOf('sub');
      const files = ['a/one', 'a/two', 'a/deep/three', 'ab/four', 'b/five', 'top'].map((p) => `${p}.safetensors`);
      for (const [i, relPath] of files.entries()) {
        await writeAdapter(root, { relPath, safetensors: { seed: relPath, tensors: tensors(8 + i) } });
      }
      expect((await importCli(root)).counts).toMatchObject({ added: 6, failed: 0 });
      const gone = ['a/one', 'a/deep/three', 'ab/four', 'b/five', 'top'].map((p) => `${p}.safetensors`);
      for (const relPath of gone) await unlink(join(root, relPath));
      const tombstoned = async () =>
        (await rows<{ relative_path: string; missing_since: unknown }>(root, 'relative_path, missing_since'))
          .filter((r) => r.missing_since !== null)
          .map((r) => r.relative_path);

      const folder = await importCli(root, join(root, 'a'));
      expect(folder.counts).toMatchObject({ seen: 1, unchanged: 1, missing: 2, added: 0 });
      // `ab/` shares the prefix `a` but is another folder; `b/` and the root's own files were not looked at.
      expect(await tombstoned()).toEqual(['a/deep/three.safetensors', 'a/one.safetensors']);
      const live = await call('GET', `/adapters?root=${rootIdOf(root)}&limit=50`);
      expect(live.body.items.map((i: { relativePath: string }) => i.relativePath).sort()).toEqual(
        ['a/two', 'ab/four', 'b/five', 'top'].map((p) => `${p}.safetensors`),
      );
      await expectExactFacetCounts();

      // The whole root then finds the rest.
      const whole = await importCli(root);
      expect(whole.counts).toMatchObject({ seen: 1, unchanged: 1, missing: 3 });
      expect((await tombstoned()).sort()).toEqual([...gone].sort());
      await expectExactFacetCounts();
    });

    it('should print plain progress lines, a summary table and the failures when the output is not a terminal', async () => {
      const root = rootOf('cli');
      await writeAdapter(root, { relPath: 'good/one.safetensors', safetensors: { seed: 'cli-one' } });
      await writeAdapter(root, { relPath: 'good/two.safetensors', safetensors: { seed: 'cli-two' } });
      await writeFile(join(root, 'good', 'two.civitai.info'), '{"id": 1, "files": [');
      await mkdir(join(root, 'broken'), { recursive: true });
      await writeFile(join(root, 'broken', 'zero.safetensors'), Buffer.alloc(0));

      const { code, output } = await runCli(['import'], cliEnv(root));
      expect({ code, output }).toMatchObject({ code: 0 });
      // No progress bar and no terminal escapes: a log file or a pipe gets readable lines.
      expect(output).not.toContain('\u001b');
      expect(output).not.toMatch(/[\u2588\u2591]/);
      expect(output).toMatch(
        /^(scanning|reading|finishing): \d+\/(\d+|\?) files read \| seen \d+, added \d+, updated \d+, unchanged \d+, moved \d+, restored \d+, failed \d+, hashed \d+$/m,
      );
      expect(output).toMatch(/^Import finished in \d+(\.\d+)? s$/m);
      const table: Record<string, number> = {};
      for (const m of output.matchAll(/^ {2}(\w+) +(\d+)$/gm)) table[m[1]] = Number(m[2]);
      // The file that is no LoRA failed; the broken sidecar is a warning on its adapter, which is imported.
      expect(table).toMatchObject({
        seen: 3,
        added: 2,
        updated: 0,
        unchanged: 0,
        moved: 0,
        missing: 0,
        failed: 1,
        hashed: 0,
      });
      expect(output).toContain('Failures (1):');
      const failure = (name: string) => output.split('\n').find((l) => l.startsWith('  /') && l.includes(name));
      const line = (path: string, reason: string) =>
        new RegExp(`^ {2}${escape(join(realpathSync(root), path))}: .*${reason}`, 'i');
      expect(failure('zero.safetensors')).toMatch(line('broken/zero.safetensors', 'small'));
      expect(failure('two.civitai.info')).toBeUndefined();
      const imported = await rows<{ relative_path: string; warnings: unknown }>(root, 'relative_path, warnings');
      expect(imported).toHaveLength(2);
      const warningsOf = (r: { warnings: unknown }) =>
        (typeof r.warnings === 'string' ? JSON.parse(r.warnings) : r.warnings) as string[];
      expect(warningsOf(imported.find((r) => r.relative_path === 'good/two.safetensors')!).join('\n')).toMatch(
        /two\.civitai\.info.*json/i,
      );

      // A bad option value is refused before anything runs, naming the option.
      const runsBefore = await queryRows(dbUrl, 'SELECT id FROM import_runs');
      const bad = await runCli(['import', '--hash', 'sometimes'], cliEnv(root));
      expect(bad.code).not.toBe(0);
      expect(bad.code).not.toBeNull();
      expect(bad.output).toContain('--hash');
      expect(bad.output).toContain('sometimes');
      expect(await queryRows(dbUrl, 'SELECT id FROM import_runs')).toHaveLength(runsBefore.length);
    });
  });
}
