import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  adapterSpec,
  openSeedDb,
  type SeedAdapter,
  type SeedDb,
  seedAdapters,
  TOMBSTONED,
} from './support/adapter-seed.js';
import { countedFacetCounts, type FacetName, keptFacetCounts } from './support/facet-counts.js';
import { createDialectDatabase, dataSourceAt, runMigrationsAt, tempDir } from './support/test-services.js';

// The migrations only: no entity is loaded, so both dialects can run in one file.
const { MIGRATIONS } = await import('@app/migrations');

const DIALECTS = [
  { name: 'SQLite', pg: false },
  { name: 'PostgreSQL', pg: true },
];

type Counts = Record<string, number>;

describe.each(DIALECTS)('adapter_facet_counts on $name', ({ pg }) => {
  const dir = tempDir(pg ? 'afc-pg' : 'afc-sqlite');
  let url = '';
  let drop: (() => Promise<void>) | undefined;
  let db: SeedDb;
  const ids: Record<string, string> = {};
  const p = (n: number): string => (pg ? `$${n}` : '?');
  const spec = (key: string, baseModel: string, tags: string[], extra: Partial<SeedAdapter> = {}): SeedAdapter =>
    adapterSpec(key, tags, { baseModel, ...extra });

  const migrate = (migrations: typeof MIGRATIONS): Promise<void> => runMigrationsAt(url, [...migrations]);

  const rows = (sql: string) => db.query<{ value: string; n: unknown }>(sql);
  /** The triggers' counts: the sum of each value's rows, zero sums left out. */
  const stored = (facet: FacetName): Promise<Counts> => keptFacetCounts(rows, facet);
  /** The same counts, counted from scratch. */
  const truth = (facet: FacetName): Promise<Counts> => countedFacetCounts(rows, facet);
  const expectExact = async (): Promise<{ tags: Counts; bases: Counts }> => {
    const tags = await stored('tag');
    const bases = await stored('base_model');
    expect(tags).toEqual(await truth('tag'));
    expect(bases).toEqual(await truth('base_model'));
    return { tags, bases };
  };

  beforeAll(async () => {
    ({ url, drop } = await createDialectDatabase(pg, 'facet_counts', dir.path));
    // Rows written before the counts existed are backfilled by the migration.
    await migrate(
      MIGRATIONS.slice(
        0,
        MIGRATIONS.findIndex((m) => m.name === 'AdapterFacetCounts1764300000700'),
      ),
    );
    db = await openSeedDb(url);
    const seeded = await seedAdapters(db, [
      spec('a', 'SDXL 1.0', ['style', 'anime']),
      spec('b', 'SDXL 1.0', ['style']),
      spec('gone', 'Pony', ['style', 'old'], TOMBSTONED),
    ]);
    ['a', 'b', 'gone'].forEach((k, i) => (ids[k] = seeded[i]));
    await migrate(MIGRATIONS);
  }, 60_000);

  afterAll(async () => {
    await db?.close();
    await drop?.();
    dir.remove();
  });

  it('should backfill the counts of present adapters', async () => {
    const { tags, bases } = await expectExact();
    expect(tags).toEqual({ style: 2, anime: 1 });
    expect(bases).toEqual({ 'SDXL 1.0': 2 });
  });

  it('should count added adapters and their tags, tombstoned ones not', async () => {
    const seeded = await seedAdapters(db, [
      spec('c', 'Pony', ['anime', 'character']),
      spec('d', 'Flux.1 D', ['character']),
      spec('gone2', 'Pony', ['character'], TOMBSTONED),
    ]);
    ['c', 'd', 'gone2'].forEach((k, i) => (ids[k] = seeded[i]));
    const { tags, bases } = await expectExact();
    expect(tags).toEqual({ style: 2, anime: 2, character: 2 });
    expect(bases).toEqual({ 'SDXL 1.0': 2, Pony: 1, 'Flux.1 D': 1 });
  });

  it('should follow an importer-style rewrite: upsert, tag rows deleted and re-inserted (duplicates ignored)', async () => {
    await db.transaction(async () => {
      // The upsert path of an existing row changes its base model.
      await db.exec(
        `INSERT INTO adapters (id, root_id, relative_path, folder, file_name, file_size, file_mtime_ms, name, sort_name, base_model, model_type, tags, trained_words, trigger_words, header_metadata, sidecars, unmapped, images, warnings, search_text, user_edited, last_ingested_at, created_at, updated_at)
         SELECT id, root_id, relative_path, folder, file_name, file_size, file_mtime_ms, name, sort_name, ${p(1)}, model_type, tags, trained_words, trigger_words, header_metadata, sidecars, unmapped, images, warnings, search_text, user_edited, last_ingested_at, created_at, updated_at FROM adapters WHERE id IN (${p(2)}, ${p(3)})
         ON CONFLICT (id) DO UPDATE SET base_model = excluded.base_model, missing_since = excluded.missing_since`,
        ['SD 1.5', ids.a, ids.c],
      );
      await db.exec(`DELETE FROM adapter_tags WHERE adapter_id IN (${p(1)}, ${p(2)})`, [ids.a, ids.c]);
      const conflict = pg ? 'ON CONFLICT DO NOTHING' : '';
      await db.exec(
        `INSERT ${pg ? '' : 'OR IGNORE '}INTO adapter_tags (adapter_id, tag) VALUES (${p(1)}, 'style'), (${p(2)}, 'new tag'), (${p(3)}, 'anime'), (${p(4)}, 'anime') ${conflict}`,
        [ids.a, ids.a, ids.c, ids.c],
      );
    });
    const { tags, bases } = await expectExact();
    expect(tags).toEqual({ style: 2, anime: 1, 'new tag': 1, character: 1 });
    expect(bases).toEqual({ 'SDXL 1.0': 1, 'SD 1.5': 2, 'Flux.1 D': 1 });
  });

  it('should take tombstoned adapters out and put restored ones back, base model changes included', async () => {
    await db.exec(`UPDATE adapters SET missing_since = ${p(1)} WHERE id IN (${p(2)}, ${p(3)})`, [
      pg ? '2025-06-01T00:00:00Z' : '2025-06-01 00:00:00.000',
      ids.b,
      ids.d,
    ]);
    let counts = await expectExact();
    expect(counts.tags).toEqual({ style: 1, anime: 1, 'new tag': 1 });
    expect(counts.bases).toEqual({ 'SD 1.5': 2 });
    // A tombstone that only changes its date changes nothing; a restore with a new base model counts the new one.
    await db.exec(`UPDATE adapters SET missing_since = ${p(1)} WHERE id = ${p(2)}`, [
      pg ? '2025-07-01T00:00:00Z' : '2025-07-01 00:00:00.000',
      ids.b,
    ]);
    await db.exec(
      `UPDATE adapters SET missing_since = NULL, base_model = 'Illustrious' WHERE id IN (${p(1)}, ${p(2)})`,
      [ids.gone, ids.d],
    );
    counts = await expectExact();
    expect(counts.tags).toEqual({ style: 2, anime: 1, 'new tag': 1, character: 1, old: 1 });
    expect(counts.bases).toEqual({ 'SD 1.5': 2, Illustrious: 2 });
  });

  it('should follow tag rows changed in place and tag rows of tombstoned adapters', async () => {
    await db.exec(`UPDATE adapter_tags SET tag = 'renamed' WHERE tag = 'old'`, []);
    await db.exec(`DELETE FROM adapter_tags WHERE adapter_id = ${p(1)}`, [ids.gone2]);
    await db.exec(`INSERT INTO adapter_tags (adapter_id, tag) VALUES (${p(1)}, 'hidden')`, [ids.b]);
    const { tags } = await expectExact();
    expect(tags).toEqual({ style: 2, anime: 1, 'new tag': 1, character: 1, renamed: 1 });
  });

  it('should drop deleted adapters, whether their tag rows go first or last', async () => {
    await db.transaction(async () => {
      await db.exec(`DELETE FROM adapter_tags WHERE adapter_id = ${p(1)}`, [ids.a]);
      await db.exec(`DELETE FROM adapters WHERE id = ${p(1)}`, [ids.a]);
      await db.exec(`DELETE FROM adapters WHERE id IN (${p(1)}, ${p(2)})`, [ids.c, ids.b]);
      await db.exec(`DELETE FROM adapter_tags WHERE adapter_id IN (${p(1)}, ${p(2)})`, [ids.c, ids.b]);
    });
    const { tags, bases } = await expectExact();
    expect(tags).toEqual({ style: 1, character: 1, renamed: 1 });
    expect(bases).toEqual({ Illustrious: 2 });
  });

  it('should read the counts most used first and fold appended deltas without changing them', async () => {
    const { AdapterQueryRepository } = await import('../libs/adapters/src/library/adapter-query.repository.js');
    const { TagMode } = await import('../libs/adapters/src/library/adapter-query.model.js');
    const ds = dataSourceAt(url);
    await ds.initialize();
    try {
      const repo = new AdapterQueryRepository(ds);
      const before = await expectExact();
      const expected = Object.entries(before.tags)
        .map(([value, count]) => ({ value, count }))
        .sort((x, y) => y.count - x.count || (x.value < y.value ? -1 : 1));
      expect(await repo.tagCounts(100)).toEqual(expected);
      expect(await repo.tagCounts(100, 'ren')).toEqual([{ value: 'renamed', count: 1 }]);
      expect(await repo.baseModelCounts()).toEqual([{ value: 'Illustrious', count: 2 }]);
      // The whole library's total (a list with no filter) is read from the same counts.
      const present = await db.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM adapters WHERE missing_since IS NULL`);
      expect(await repo.count({ tagMode: TagMode.Any, missing: false })).toBe(Number(present[0].n));
      expect(Number(present[0].n)).toBe(2);
      await repo.compactFacetCounts();
      expect(await expectExact()).toEqual(before);
      const rows = await db.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM adapter_facet_counts`);
      expect(Number(rows[0].n)).toBeLessThanOrEqual(
        pg ? Object.keys(before.tags).length + Object.keys(before.bases).length : Infinity,
      );
    } finally {
      await ds.destroy();
    }
  });

  it('should count tag rows written before their adapter row', async () => {
    const id = '00000000-0000-4000-8000-000000000001';
    await db.exec(`INSERT INTO adapter_tags (adapter_id, tag) VALUES (${p(1)}, 'early')`, [id]);
    await seedAdapters(db, [{ ...spec('late', 'SD 1.5', []), id }]);
    const { tags } = await expectExact();
    expect(tags.early).toBe(1);
  });
});
