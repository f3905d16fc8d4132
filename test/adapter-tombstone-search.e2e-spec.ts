import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { adapterSpec, openSeedDb, type SeedDb, seedAdapters, TOMBSTONED } from './support/adapter-seed.js';
import { dataSourceAt, runMigrationsAt, tempDir } from './support/test-services.js';

// The migrations only: no entity is loaded.
const { MIGRATIONS } = await import('@app/migrations');
const { AdapterQueryRepository } = await import('../libs/adapters/src/library/adapter-query.repository.js');
const { TagMode } = await import('../libs/adapters/src/library/adapter-query.model.js');

const TERMS = ['style', 'anime', 'old', 'dragon', 'wyvern'];

describe('the tombstones’ search index on SQLite', () => {
  const dir = tempDir('tombstone-search');
  const url = `sqlite:${join(dir.path, 'db.sqlite')}`;
  let db: SeedDb;
  let ds: DataSource;
  const ids: Record<string, string> = {};
  const spec = adapterSpec;
  const gone = TOMBSTONED;

  const migrate = (migrations: typeof MIGRATIONS): Promise<void> => runMigrationsAt(url, [...migrations]);
  const n = async (sql: string, params: unknown[] = []): Promise<number> =>
    Number((await db.query<{ n: unknown }>(sql, params))[0].n);

  /** Per term: tombstoned matches in their own index, and counted from scratch through the main index. */
  const expectExact = async (): Promise<Record<string, number>> => {
    const counts: Record<string, number> = {};
    for (const term of TERMS) {
      const stored = await n(`SELECT COUNT(*) AS n FROM adapters_fts_missing WHERE adapters_fts_missing MATCH ?`, [
        term,
      ]);
      const truth = await n(
        `SELECT COUNT(*) AS n FROM adapters WHERE missing_since IS NOT NULL AND rowid IN (SELECT rowid FROM adapters_fts WHERE adapters_fts MATCH ?)`,
        [term],
      );
      expect({ term, count: stored }).toEqual({ term, count: truth });
      counts[term] = stored;
      // And a search's total (every match minus the tombstoned ones) stays the number of present matches.
      const present = await n(
        `SELECT COUNT(*) AS n FROM adapters WHERE missing_since IS NULL AND rowid IN (SELECT rowid FROM adapters_fts WHERE adapters_fts MATCH ?)`,
        [term],
      );
      const repo = new AdapterQueryRepository(ds, { queryCacheEntries: 0 });
      expect({ term, total: await repo.count({ searchTerms: [term], tagMode: TagMode.Any, missing: false }) }).toEqual({
        term,
        total: present,
      });
    }
    return counts;
  };

  beforeAll(async () => {
    // Tombstones written before the index existed are backfilled by the migration.
    await migrate(
      MIGRATIONS.slice(
        0,
        MIGRATIONS.findIndex((m) => m.name === 'AdapterTombstoneSearch1764300000800'),
      ),
    );
    db = await openSeedDb(url);
    const seeded = await seedAdapters(db, [
      spec('a', ['style', 'anime']),
      spec('b', ['style']),
      spec('gone1', ['style', 'old'], gone),
      spec('gone2', ['dragon'], gone),
    ]);
    ['a', 'b', 'gone1', 'gone2'].forEach((k, i) => (ids[k] = seeded[i]));
    await migrate(MIGRATIONS);
    ds = dataSourceAt(url);
    await ds.initialize();
  }, 60_000);

  afterAll(async () => {
    await ds?.destroy();
    await db?.close();
    dir.remove();
  });

  it('should hold the tombstones written before it existed', async () => {
    expect(await expectExact()).toMatchObject({ style: 1, old: 1, dragon: 1, anime: 0 });
  });

  it('should take in adapters as they are tombstoned and let them go when restored', async () => {
    await db.exec(`UPDATE adapters SET missing_since = '2025-02-01 00:00:00.000' WHERE id = ?`, [ids.a]);
    expect(await expectExact()).toMatchObject({ style: 2, anime: 1 });
    await db.exec(`UPDATE adapters SET missing_since = NULL WHERE id = ?`, [ids.gone1]);
    expect(await expectExact()).toMatchObject({ style: 1, old: 0 });
    // A tombstone that only moves in time changes nothing.
    await db.exec(`UPDATE adapters SET missing_since = '2025-03-01 00:00:00.000' WHERE id = ?`, [ids.a]);
    expect(await expectExact()).toMatchObject({ style: 1, anime: 1 });
  });

  it('should follow a tombstoned adapter whose text changes, and drop deleted ones', async () => {
    await db.exec(`UPDATE adapters SET search_text = 'wyvern' WHERE id = ?`, [ids.gone2]);
    expect(await expectExact()).toMatchObject({ dragon: 0, wyvern: 1 });
    await db.exec(`DELETE FROM adapters WHERE id = ?`, [ids.gone2]);
    expect(await expectExact()).toMatchObject({ wyvern: 0 });
  });

  it('should hold adapters written already tombstoned, and ignore present ones', async () => {
    await seedAdapters(db, [spec('gone3', ['dragon'], gone), spec('c', ['dragon'])]);
    expect(await expectExact()).toMatchObject({ dragon: 1 });
  });
});
