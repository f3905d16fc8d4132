import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdir, rename, truncate, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { entryOf, runCli } from './support/app-process.js';
import { cliDatabase, importJson, type ImportSummary } from './support/cli-library.js';
import { generateCorpus, writeAdapter, writeCorruptJson } from './support/corpus-builder.js';
import { queryRows } from './support/db-inspect.js';
import { tempDir } from './support/test-services.js';

// What an import's counts mean, as the CLI reports them: every file found is counted once (added, updated,
// unchanged, moved, restored or failed), a broken sidecar is a warning on its adapter, a re-read that finds the
// same facts is no update, hashes are counted apart, and a real run lists what it changed.

const later = (seconds: number): Date => new Date(Date.now() + seconds * 1000);

/** `seen` is the sum of what happened to each file found. */
const expectCountsAddUp = (summary: ImportSummary): void => {
  const c = summary.counts;
  expect(c.seen).toBe(c.added + c.updated + c.unchanged + c.moved + c.restored + c.failed);
};

const byPath = (a: { path: string }, b: { path: string }): number => a.path.localeCompare(b.path);

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`import counts on ${dialect}`, () => {
    const dir = tempDir(`counts-${dialect}`);
    const root = join(dir.path, 'library');
    let env: Record<string, string>;
    let dbUrl: string;
    let dropDb: (() => Promise<void>) | undefined;
    const importCli = (...args: string[]) => importJson(env, ...args);

    beforeAll(async () => {
      await mkdir(root, { recursive: true });
      const db = await cliDatabase(dialect, 'counts', join(dir.path, 'data'));
      env = { ...db.env, LORA_ROOTS: root };
      dbUrl = db.dbUrl;
      dropDb = db.drop;
    }, 60_000);

    afterAll(async () => {
      await dropDb?.();
      dir.remove();
    });

    it('should add up on a cold import, a resync without changes, a touched, changed, moved, deleted and restored file', async () => {
      // d0000/lora_00000..02, d0001/lora_00003..05; one more with a broken sidecar, one file that is no LoRA.
      await generateCorpus(root, 6, { perDir: 3 });
      await writeAdapter(root, {
        relPath: 'own/ink.safetensors',
        safetensors: { seed: 'ink', metadata: { ss_output_name: 'ink' } },
        a1111: { activationText: 'inkword', sdVersion: 'SDXL' },
      });
      await writeAdapter(root, { relPath: 'own/broken.safetensors', safetensors: { seed: 'broken' } });
      await writeCorruptJson(join(root, 'own', 'broken.civitai.info'));
      await writeFile(join(root, 'own', 'junk.safetensors'), 'not a safetensors file at all');

      const cold = await importCli();
      expectCountsAddUp(cold);
      expect(cold.counts).toEqual({
        seen: 9,
        added: 8,
        updated: 0,
        unchanged: 0,
        moved: 0,
        missing: 0,
        restored: 0,
        failed: 1,
        hashed: 0,
      });
      // Only the file that is no LoRA failed; the broken sidecar is a warning on its adapter.
      expect(cold.failureCount).toBe(1);
      expect(cold.failures.map((f) => f.path)).toEqual([join(root, 'own', 'junk.safetensors')]);
      const [broken] = await queryRows<{ warnings: unknown }>(
        dbUrl,
        'SELECT warnings FROM adapters WHERE relative_path = ?',
        ['own/broken.safetensors'],
      );
      const warnings = (
        typeof broken.warnings === 'string' ? JSON.parse(broken.warnings) : broken.warnings
      ) as string[];
      expect(warnings.some((w) => w.includes('broken.civitai.info'))).toBe(true);
      // A real run lists what it did, like a dry run.
      expect(cold.changes).toHaveLength(8);
      expect(cold.changes?.every((c) => c.change === 'added')).toBe(true);

      const again = await importCli();
      expectCountsAddUp(again);
      expect(again.counts).toMatchObject({ seen: 9, unchanged: 8, updated: 0, failed: 1, hashed: 0 });
      expect(again.changes).toEqual([]);

      // Touched files and a touched sidecar are re-read; the same facts are no update.
      await utimes(join(root, 'd0000/lora_00000.safetensors'), later(60), later(60));
      await utimes(join(root, 'own/ink.json'), later(60), later(60));
      const touched = await importCli();
      expectCountsAddUp(touched);
      expect(touched.counts).toMatchObject({ seen: 9, unchanged: 8, updated: 0, failed: 1 });

      // Hashes computed for the first time change no fact: counted as hashed, not updated.
      const hashed = await importCli('--hash', 'full');
      expectCountsAddUp(hashed);
      // The file that is no LoRA has no row, so every run reads it again: with `--hash full` it is hashed too.
      expect(hashed.counts).toMatchObject({ seen: 9, unchanged: 8, updated: 0, failed: 1, hashed: 9 });

      // A sidecar that says something new, a file with new bytes and header, a move, a deletion.
      await writeAdapter(root, {
        relPath: 'own/ink.safetensors',
        safetensors: { seed: 'ink', metadata: { ss_output_name: 'ink' } },
        a1111: { activationText: 'inkword, bold lines', sdVersion: 'SDXL' },
      });
      await utimes(join(root, 'own/ink.json'), later(120), later(120));
      await writeAdapter(root, {
        relPath: 'd0000/lora_00001.safetensors',
        safetensors: { seed: 'new bytes', metadata: { ss_output_name: 'renamed' } },
      });
      await utimes(join(root, 'd0000/lora_00001.safetensors'), later(120), later(120));
      await rename(join(root, 'd0001/lora_00003.safetensors'), join(root, 'own/moved.safetensors'));
      await unlink(join(root, 'd0001/lora_00004.safetensors'));
      const changed = await importCli();
      expectCountsAddUp(changed);
      expect(changed.counts).toMatchObject({
        seen: 8,
        updated: 2,
        moved: 1,
        missing: 1,
        unchanged: 4,
        failed: 1,
        added: 0,
      });
      expect([...(changed.changes ?? [])].sort(byPath)).toEqual(
        [
          { path: 'own/ink.safetensors', change: 'updated' },
          { path: 'd0000/lora_00001.safetensors', change: 'updated' },
          { path: 'own/moved.safetensors', change: 'moved', from: 'd0001/lora_00003.safetensors' },
          { path: 'd0001/lora_00004.safetensors', change: 'missing' },
        ].sort(byPath),
      );

      // The deleted file comes back: restored, and counted once.
      await writeAdapter(root, { relPath: 'd0001/lora_00004.safetensors', safetensors: { seed: 'back' } });
      const restored = await importCli();
      expectCountsAddUp(restored);
      expect(restored.counts).toMatchObject({ seen: 9, restored: 1, unchanged: 7, failed: 1, missing: 0 });
      expect(restored.changes).toEqual([{ path: 'd0001/lora_00004.safetensors', change: 'restored' }]);

      // The table lists the same with --verbose, and only then.
      await unlink(join(root, 'own/moved.safetensors'));
      const quiet = await runCli(['import', '--dry-run'], env);
      expect(quiet.output).toMatch(/^\s+missing\s+own\/moved\.safetensors$/m);
      const table = await runCli(['import'], env);
      expect(table.output).not.toMatch(/^\s+missing\s+own\/moved\.safetensors$/m);
      await writeAdapter(root, { relPath: 'own/moved.safetensors', safetensors: { seed: 'back again' } });
      const verbose = await runCli(['import', '--verbose'], env);
      expect(verbose.code).toBe(0);
      expect(verbose.output).toContain('Changed:');
      expect(verbose.output).toMatch(/^\s+restored\s+own\/moved\.safetensors$/m);
    }, 180_000);
  });
}

describe('import progress without a terminal', () => {
  const dir = tempDir('progress');
  afterAll(() => dir.remove());

  it('should print a line with the counts at least every 2 s of a long import', async () => {
    const root = join(dir.path, 'library');
    await mkdir(root, { recursive: true });
    // Large sparse files (hashing reads every byte, the disk holds none): a full hash takes seconds.
    const GB = 512 * 1024 ** 2;
    for (let i = 0; i < 4; i++) {
      const path = join(root, `big_${i}.safetensors`);
      const header = JSON.stringify({
        __metadata__: { ss_output_name: `big_${i}` },
        w: { dtype: 'U8', shape: [GB], data_offsets: [0, GB] },
      });
      const prefix = Buffer.alloc(8);
      prefix.writeBigUInt64LE(BigInt(header.length));
      await writeFile(path, Buffer.concat([prefix, Buffer.from(header)]));
      await truncate(path, 8 + header.length + GB);
    }
    const env = { DATA_DIR: join(dir.path, 'data'), LORA_ROOTS: root, IMPORT_WORKERS: '0' };
    const child = spawn(process.execPath, [entryOf('cli'), 'import', '--hash', 'full'], {
      env: { PATH: process.env.PATH ?? '', LOG_FORMAT: 'json', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const started = Date.now();
    const lines: { at: number; text: string }[] = [];
    let pending = '';
    child.stdout.on('data', (d: Buffer) => {
      pending += d.toString();
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const text of parts) lines.push({ at: Date.now(), text });
    });
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    const ended = Date.now();
    expect(code).toBe(0);

    // Long enough to need progress, then a line at least every 2 s (with slack for a loaded machine).
    expect(ended - started).toBeGreaterThan(4000);
    const progress = lines.filter((l) => /^(scanning|reading|finishing): /.test(l.text));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)!.text).toMatch(
      /seen 4, added \d+, updated \d+, unchanged \d+, moved \d+, restored \d+, failed \d+, hashed \d+/,
    );
    // From the first line (the process boots before that) to the summary.
    const times = [...progress.map((l) => l.at), lines.find((l) => l.text.startsWith('Import finished'))!.at];
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(2500);
  }, 120_000);
});
