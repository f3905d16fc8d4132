import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { adapterSpec, openSeedDb, type SeedDb, seedAdapters, TOMBSTONED } from './support/adapter-seed.js';
import { countedFacetCounts, type FacetCounts, keptFacetCounts } from './support/facet-counts.js';
import { createTestDatabase, dataSourceAt, runMigrationsAt } from './support/test-services.js';

// The migrations only: no entity is loaded.
const { MIGRATIONS } = await import('@app/migrations');
const { AdapterQueryRepository } = await import('../libs/adapters/src/library/adapter-query.repository.js');
const { AdapterSort, SortOrder, TagMode } = await import('../libs/adapters/src/library/adapter-query.model.js');

const TERMS = ['style', 'anime', 'old', 'dragon', 'wyvern', 'phoenix', 'griffin', 'sty'];

describe('the narrow search table on PostgreSQL', () => {
  let url = '';
  let drop: (() => Promise<void>) | undefined;
  let db: SeedDb;
  let ds: DataSource;
  const ids: Record<string, string> = {};
  const spec = adapterSpec;
  const gone = TOMBSTONED;

  /**
   * The table holds exactly one row per adapter, with its presence and the vector of its text; and a search
   * alone (which reads only this table) gives, per term, the total and the relevance order counted from scratch
   * over `adapters`.
   */
  const expectExact = async (): Promise<Record<string, number>> => {
    const keys = 'sort_name, downloads, likes, rating, created_at, file_size';
    const stored = await db.query(
      `SELECT id, present, search_vector::text AS v, ${keys} FROM adapter_search ORDER BY id`,
    );
    const truth = await db.query(
      `SELECT id, missing_since IS NULL AS present, to_tsvector('simple', search_text)::text AS v, ${keys} FROM adapters ORDER BY id`,
    );
    expect(stored).toEqual(truth);
    const repo = new AdapterQueryRepository(ds);
    const totals: Record<string, number> = {};
    for (const term of TERMS) {
      const filter = { searchTerms: [term], tagMode: TagMode.Any, missing: false };
      const ranked = await db.query<{ id: string }>(
        `SELECT id FROM adapters WHERE missing_since IS NULL AND to_tsvector('simple', search_text) @@ to_tsquery('simple', $1)
         ORDER BY ts_rank(to_tsvector('simple', search_text), to_tsquery('simple', $1)) DESC, id DESC`,
        [`'${term}':*`],
      );
      const page = await repo.listPage(filter, {
        sort: AdapterSort.Relevance,
        order: SortOrder.Desc,
        offset: 0,
        limit: 50,
      });
      expect({ term, ...page }).toEqual({ term, total: ranked.length, ids: ranked.map((r) => r.id) });
      expect({ term, count: await repo.count(filter) }).toEqual({ term, count: ranked.length });
      // Sorted by a column the table holds: the same total, and the order counted over `adapters`.
      for (const [sort, column, order, nulls] of [
        [AdapterSort.Downloads, 'downloads', SortOrder.Desc, ''],
        [AdapterSort.Name, 'sort_name', SortOrder.Asc, ''],
        [AdapterSort.Rating, 'rating', SortOrder.Desc, ' NULLS LAST'],
      ] as const) {
        const dir = order === SortOrder.Asc ? 'ASC' : 'DESC';
        const sorted = await db.query<{ id: string }>(
          `SELECT id FROM adapters WHERE missing_since IS NULL AND to_tsvector('simple', search_text) @@ to_tsquery('simple', $1)
           ORDER BY ${column} ${dir}${nulls}, id ${dir}`,
          [`'${term}':*`],
        );
        const byColumn = await repo.listPage(filter, { sort, order, offset: 0, limit: 50 });
        expect({ term, sort, ...byColumn }).toEqual({ term, sort, total: ranked.length, ids: sorted.map((r) => r.id) });
      }
      totals[term] = ranked.length;
    }
    return totals;
  };

  beforeAll(async () => {
    ({ url, drop } = await createTestDatabase('search_table'));
    // Adapters written before the table existed are backfilled by the migration.
    await runMigrationsAt(
      url,
      MIGRATIONS.slice(
        0,
        MIGRATIONS.findIndex((m) => m.name === 'AdapterSearchTable1764300000900'),
      ),
    );
    db = await openSeedDb(url);
    const seeded = await seedAdapters(db, [
      spec('a', ['style', 'anime']),
      spec('b', ['style', 'style art']),
      spec('gone1', ['style', 'old'], gone),
      spec('gone2', ['dragon'], gone),
    ]);
    ['a', 'b', 'gone1', 'gone2'].forEach((k, i) => (ids[k] = seeded[i]));
    await runMigrationsAt(url, [...MIGRATIONS]);
    ds = dataSourceAt(url);
    await ds.initialize();
  }, 60_000);

  afterAll(async () => {
    await ds?.destroy();
    await db?.close();
    await drop?.();
  });

  it('should hold every adapter written before it existed, tombstones as not present', async () => {
    expect(await expectExact()).toMatchObject({ style: 2, sty: 2, anime: 1, old: 0, dragon: 0 });
  });

  it('should follow inserts, tombstones, restores and text changes', async () => {
    const [c] = await seedAdapters(db, [spec('c', ['dragon', 'style']), spec('gone3', ['dragon'], gone)]);
    ids.c = c;
    expect(await expectExact()).toMatchObject({ style: 3, dragon: 1 });
    await db.exec(`UPDATE adapters SET missing_since = '2025-02-01T00:00:00Z' WHERE id = $1`, [ids.a]);
    expect(await expectExact()).toMatchObject({ style: 2, anime: 0 });
    await db.exec(`UPDATE adapters SET missing_since = NULL WHERE id IN ($1, $2)`, [ids.gone1, ids.gone2]);
    expect(await expectExact()).toMatchObject({ style: 3, old: 1, dragon: 2 });
    // A tombstone that only moves in time, and an edit of a column the table does not hold, change nothing here.
    await db.exec(`UPDATE adapters SET missing_since = '2025-03-01T00:00:00Z' WHERE id = $1`, [ids.a]);
    await db.exec(`UPDATE adapters SET favorite = NOT favorite WHERE id = $1`, [ids.b]);
    expect(await expectExact()).toMatchObject({ style: 3, anime: 0 });
    // Its sort keys follow the adapter (a Civitai refresh changes the counts and rating, an edit the name).
    await db.exec(`UPDATE adapters SET downloads = 7, likes = 3, rating = 4.5 WHERE id = $1`, [ids.b]);
    await db.exec(`UPDATE adapters SET sort_name = 'zzz', file_size = 1, rating = NULL WHERE id = $1`, [ids.c]);
    expect(await expectExact()).toMatchObject({ style: 3, anime: 0 });
    await db.exec(`UPDATE adapters SET search_text = 'wyvern' WHERE id = $1`, [ids.gone2]);
    expect(await expectExact()).toMatchObject({ dragon: 1, wyvern: 1 });
  });

  it('should follow an importer-style upsert that inserts one row and rewrites another in one statement', async () => {
    await db.exec(`UPDATE adapters SET missing_since = '2025-04-01T00:00:00Z' WHERE id = $1`, [ids.b]);
    expect(await expectExact()).toMatchObject({ style: 2 });
    await db.transaction(async () => {
      await db.exec(`CREATE TEMP TABLE incoming ON COMMIT DROP AS SELECT * FROM adapters WHERE id = ANY($1::uuid[])`, [
        [ids.b, ids.c],
      ]);
      await db.exec(
        `UPDATE incoming SET id = gen_random_uuid(), relative_path = 'new.safetensors', search_text = 'phoenix' WHERE id = $1`,
        [ids.c],
      );
      // The rewritten row comes back from its tombstone with a new text; the other one is new.
      await db.exec(`UPDATE incoming SET missing_since = NULL WHERE id = $1`, [ids.b]);
      await db.exec(
        `INSERT INTO adapters SELECT * FROM incoming ON CONFLICT (id) DO UPDATE SET search_text = excluded.search_text || ' griffin', missing_since = excluded.missing_since`,
        [],
      );
    });
    expect(await expectExact()).toMatchObject({ phoenix: 1, griffin: 1, style: 3 });
  });

  it('should drop deleted adapters', async () => {
    await db.exec(`DELETE FROM adapters WHERE id IN ($1, $2)`, [ids.b, ids.gone2]);
    expect(await expectExact()).toMatchObject({ griffin: 0, wyvern: 0, style: 2 });
  });

  it('should be emptied, with the facet counts, by a TRUNCATE of the adapters or of their tags', async () => {
    const rows = (sql: string) => db.query<{ value: string; n: unknown }>(sql);
    const facetsExact = async (): Promise<FacetCounts> => {
      expect(await keptFacetCounts(rows, 'base_model')).toEqual(await countedFacetCounts(rows, 'base_model'));
      const tags = await keptFacetCounts(rows, 'tag');
      expect(tags).toEqual(await countedFacetCounts(rows, 'tag'));
      return tags;
    };
    await db.exec(`CREATE TABLE adapters_kept AS SELECT * FROM adapters`, []);
    await db.exec(`CREATE TABLE adapter_tags_kept AS SELECT * FROM adapter_tags`, []);
    const tagsBefore = await facetsExact();
    expect(tagsBefore.style).toBe(2);
    await db.exec(`TRUNCATE adapter_tags`, []);
    expect(await facetsExact()).toEqual({});
    await db.exec(`INSERT INTO adapter_tags SELECT * FROM adapter_tags_kept`, []);
    expect(await facetsExact()).toEqual(tagsBefore);
    await db.exec(`TRUNCATE adapters, adapter_tags`, []);
    expect(await expectExact()).toMatchObject({ style: 0, dragon: 0 });
    expect(await facetsExact()).toEqual({});
    await db.exec(`INSERT INTO adapters SELECT * FROM adapters_kept`, []);
    await db.exec(`INSERT INTO adapter_tags SELECT * FROM adapter_tags_kept`, []);
    expect(await expectExact()).toMatchObject({ style: 2, dragon: 1 });
    expect(await facetsExact()).toEqual(tagsBefore);
  });

  it('should leave tombstones out of a search that asks for present adapters, and find them when asked', async () => {
    const repo = new AdapterQueryRepository(ds);
    const missing = { searchTerms: ['anime'], tagMode: TagMode.Any, missing: true };
    expect(
      await repo.listPage(missing, { sort: AdapterSort.Relevance, order: SortOrder.Desc, offset: 0, limit: 50 }),
    ).toEqual({
      total: 1,
      ids: [ids.a],
    });
  });
});
