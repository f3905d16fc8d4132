import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rename, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { cliDatabase, importJson } from './support/cli-library.js';
import { writeAdapter, type AdapterSpec } from './support/corpus-builder.js';
import { queryRows } from './support/db-inspect.js';
import { tempDir } from './support/test-services.js';
interface HashRow {
  relative_path: string;
  sha256: string | null;
  sha256_verified: unknown;
  warnings: string | string[];
}

/** What two sidecars claim, wrongly, for two different files: the false duplicate of LoRA-Manager #221. */
const CLAIM = 'ab'.repeat(32);
const claimed = (relPath: string, seed: string): AdapterSpec => ({
  relPath,
  safetensors: { seed },
  civitaiInfo: {
    id: 1,
    modelId: 2,
    files: [{ name: relPath.split('/').pop()!, primary: true, sha256: CLAIM, autoV1: 'ABCDEF12', sizeKB: 1 }],
  },
});

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`computed and claimed hashes on ${dialect}`, () => {
    const dir = tempDir(`import-hashes-${dialect}`);
    const root = join(dir.path, 'loras');
    let env: Record<string, string>;
    let dbUrl: string;
    let dropDb: (() => Promise<void>) | undefined;
    const real: Record<string, string> = {};

    const importCli = (...args: string[]) => importJson(env, ...args);
    /** Each indexed file's SHA-256, marked `(claimed)` when it was not computed from the file. */
    const hashes = async () => {
      const rows = await queryRows<HashRow>(
        dbUrl,
        'SELECT relative_path, sha256, sha256_verified, warnings FROM adapters',
      );
      return Object.fromEntries(
        rows.map((r) => [
          r.relative_path,
          r.sha256 === null
            ? null
            : `${r.sha256}${r.sha256_verified === true || Number(r.sha256_verified) === 1 ? '' : ' (claimed)'}`,
        ]),
      );
    };

    beforeAll(async () => {
      for (const spec of [
        { relPath: 'same/a.safetensors', safetensors: { seed: 'same' } },
        { relPath: 'same/b.safetensors', safetensors: { seed: 'same' } },
        claimed('claims/x.safetensors', 'x'),
        claimed('claims/y.safetensors', 'y'),
      ]) {
        real[spec.relPath] = (await writeAdapter(root, spec)).sha256;
      }
      const db = await cliDatabase(dialect, 'hashes', join(dir.path, 'data'));
      ({ dbUrl, drop: dropDb } = db);
      env = { ...db.env, LORA_ROOTS: root };
    });

    afterAll(async () => {
      await dropDb?.();
      dir.remove();
    });

    it('should store a lazy import’s sidecar hashes as claims, never as computed', async () => {
      expect((await importCli()).counts).toMatchObject({ added: 4 });
      expect(await hashes()).toEqual({
        'same/a.safetensors': null,
        'same/b.safetensors': null,
        'claims/x.safetensors': `${CLAIM} (claimed)`,
        'claims/y.safetensors': `${CLAIM} (claimed)`,
      });
    });

    it('should keep the identity of a renamed file whose sidecar claims a wrong hash', async () => {
      const idOf = async (path: string) =>
        (await queryRows<{ id: string }>(dbUrl, 'SELECT id FROM adapters WHERE relative_path = ?', [path]))[0]?.id;
      const before = await idOf('claims/x.safetensors');
      const move = async (from: string, to: string) => {
        for (const ext of ['.safetensors', '.civitai.info'])
          await rename(join(root, 'claims', from + ext), join(root, 'claims', to + ext));
      };
      // The file's real hash disagrees with the claim; its size and mtime (kept by a rename) still identify it.
      await move('x', 'renamed x');
      expect((await importCli()).counts).toMatchObject({ moved: 1, added: 0, missing: 0 });
      expect(await idOf('claims/renamed x.safetensors')).toBe(before);
      await move('renamed x', 'x');
      expect((await importCli()).counts).toMatchObject({ moved: 1, added: 0, missing: 0 });
      expect(await idOf('claims/x.safetensors')).toBe(before);
    });

    it('should not take a claim for a cached file hash when it re-reads a file', async () => {
      // An edited sidecar makes the file "changed": it is re-read, with its size and mtime unchanged.
      const info = join(root, 'claims', 'x.civitai.info');
      await utimes(info, new Date(), new Date(Date.now() + 5000));
      // All four are re-read. y's claim gives way to the file's hash and a warning that they differ: updated. x was
      // hashed when it moved and says nothing new; a and b gain their first hash, which changes no fact.
      expect((await importCli('--hash', 'full')).counts).toMatchObject({ updated: 1, unchanged: 3, hashed: 3 });
      expect(await hashes()).toEqual({
        'same/a.safetensors': real['same/a.safetensors'],
        'same/b.safetensors': real['same/b.safetensors'],
        'claims/x.safetensors': real['claims/x.safetensors'],
        'claims/y.safetensors': real['claims/y.safetensors'],
      });
      expect(real['same/a.safetensors']).toBe(real['same/b.safetensors']);
      const warnings = await queryRows<HashRow>(
        dbUrl,
        `SELECT relative_path, warnings FROM adapters WHERE relative_path LIKE 'claims/%'`,
      );
      for (const row of warnings)
        expect(JSON.stringify(row.warnings)).toContain(`SHA256 ${CLAIM} differs from the file's`);
    });

    it('should hash with --hash full only what was never hashed, and re-hash a changed file that had a hash', async () => {
      expect((await importCli('--hash', 'full')).counts).toMatchObject({ updated: 0, unchanged: 4 });
      // Lazy: a changed file whose hash was computed gets a new one; a stale hash would make a false duplicate.
      const changed = await writeAdapter(root, { relPath: 'same/a.safetensors', safetensors: { seed: 'same-v2' } });
      expect((await importCli()).counts).toMatchObject({ updated: 1, unchanged: 3 });
      expect((await hashes())['same/a.safetensors']).toBe(changed.sha256);
      expect(changed.sha256).not.toBe(real['same/b.safetensors']);
    });
  });
}
