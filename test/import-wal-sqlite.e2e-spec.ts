import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { DataSource } from 'typeorm';
import { openConfiguredDataSource } from './support/configured-data-source.js';
import { makeTempDir, removeTempDir, writeAdapter } from './support/corpus-builder.js';
import { tempDir } from './support/test-services.js';

// SQLite: an import lets the write-ahead log grow between checkpoints while it runs (its commits rewrite the same
// index pages), then restores SQLite's threshold and copies the log into the database file when the last one ends.
const dir = tempDir('import-wal-sqlite');
process.env.DATA_DIR = dir.path;
delete process.env.DATABASE_URL;

const { AdapterRepository } = await import('../libs/adapters/src/library/adapter.repository.js');
const { inspectAdapterFile } = await import('../libs/adapters/src/reading/inspect-adapter.js');
const { buildAdapterRow } = await import('../libs/adapters/src/import-runs/adapter-row.js');

describe('import writes on SQLite', () => {
  let tmp: string;
  let ds: DataSource;
  let adapters: InstanceType<typeof AdapterRepository>;
  let rowsFor: (names: string[]) => ReturnType<typeof buildAdapterRow>[];
  const threshold = (): number => {
    const db = (ds.driver as unknown as { databaseConnection: Database.Database }).databaseConnection;
    return Number(db.pragma('wal_autocheckpoint', { simple: true }));
  };

  beforeAll(async () => {
    tmp = await makeTempDir('import-wal-');
    ds = await openConfiguredDataSource();
    adapters = new AdapterRepository(ds);
    await writeAdapter(tmp, { relPath: 'ink.safetensors', safetensors: { seed: 'ink' } });
    const { facts } = await inspectAdapterFile({ absPath: join(tmp, 'ink.safetensors') }, { hash: false });
    const root = { id: 'root-1', path: tmp, realPath: tmp };
    rowsFor = (names) =>
      names.map((name) =>
        buildAdapterRow(
          facts,
          { relPath: `${name}.safetensors`, name: `${name}.safetensors`, size: 100, mtimeMs: 1 },
          root,
          [],
          undefined,
          new Date(),
        ),
      );
  });

  afterAll(async () => {
    await ds?.destroy();
    await removeTempDir(tmp);
    dir.remove();
  });

  it('should raise the checkpoint threshold while any import writes and restore it after the last, failed or not', async () => {
    const before = threshold();
    expect(before).toBe(1000);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = adapters.bulkWrites(async () => {
      await held;
      return 'first';
    });
    const second = adapters.bulkWrites(() => {
      expect(threshold()).toBeGreaterThanOrEqual(16_384);
      return Promise.reject(new Error('broken import'));
    });
    await expect(second).rejects.toThrow('broken import');
    // The first import still writes: its allowance stands.
    expect(threshold()).toBeGreaterThanOrEqual(16_384);
    release();
    await expect(first).resolves.toBe('first');
    expect(threshold()).toBe(before);
  });

  it('should leave the imported rows in the database file itself when the import ends', async () => {
    await adapters.bulkWrites(() => adapters.writeBatch(rowsFor(['a', 'b', 'c'])));
    // A copy of the database file without its log holds only what was checkpointed.
    const copy = join(tmp, 'copy.sqlite');
    copyFileSync(join(dir.path, 'lora-manager.sqlite'), copy);
    const db = new Database(copy, { readonly: true });
    try {
      const names = db.prepare('SELECT relative_path AS p FROM adapters ORDER BY p').all() as { p: string }[];
      expect(names.map((r) => r.p)).toEqual(['a.safetensors', 'b.safetensors', 'c.safetensors']);
    } finally {
      db.close();
    }
  });
});
