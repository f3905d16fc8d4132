import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { adapterSpec, openSeedDb, type SeedDb, seedAdapters, TOMBSTONED } from './support/adapter-seed.js';
import { createDialectDatabase, dataSourceAt, tempDir } from './support/test-services.js';

// The migrations only: no entity is loaded, so both dialects can run in one file.
const { MIGRATIONS } = await import('@app/migrations');

const DIALECTS = [
  { name: 'SQLite', pg: false },
  { name: 'PostgreSQL', pg: true },
];

const SORT_COLUMNS = ['name', 'created', 'updated', 'downloads', 'likes', 'rating', 'size'];
const FOLDER_INDEX = 'idx_adapters_folder_prefix';
const ADDED_COLUMNS = [
  'civitai_checked_at',
  'civitai_details',
  'civitai_remote',
  'facts_digest',
  'has_warnings',
  'preview_embedded',
  'sha256_verified',
  'version_description',
];
const RESULT_TABLES = ['generation_result_adapters', 'generation_results'];
/** Migration 1764300005300 drops these (a wider index of their table leads with the same column). */
const PREFIX_INDEXES = [
  'idx_delivery_jobs_created_at',
  'idx_generation_jobs_created_at',
  'idx_generation_jobs_status',
  'idx_import_runs_created',
];
/** Migration 1764300005200: each count index with the columns it carries (before it, the first one alone). */
const COUNT_INDEXES: Record<string, string[]> = {
  idx_adapters_base_model: ['base_model', 'missing_since'],
  idx_adapters_model_type: ['model_type', 'missing_since'],
  idx_adapters_nsfw: ['nsfw_max', 'missing_since'],
  idx_adapters_sha256: ['sha256', 'missing_since', 'sha256_verified'],
  idx_adapters_missing: ['missing_since', 'sha256_verified'],
};
/** The search table's migration and every later one, by class name. */
const REVERTED = MIGRATIONS.slice(MIGRATIONS.findIndex((m) => m.name === 'AdapterSearchTable1764300000900')).map(
  (m) => m.name,
);

describe.each(DIALECTS)('the search table, sort index and later migrations on $name', ({ pg }) => {
  const dir = tempDir(pg ? 'revert-pg' : 'revert-sqlite');
  let drop: (() => Promise<void>) | undefined;
  let ds: DataSource;
  let db: SeedDb;

  /** Which of these indexes exist, by name. */
  const indexNames = async (names: readonly string[]): Promise<string[]> => {
    const rows = await db.query<{ name: string }>(
      pg ? `SELECT indexname AS name FROM pg_indexes` : `SELECT name FROM sqlite_master WHERE type = 'index'`,
    );
    return rows
      .map((r) => r.name)
      .filter((n) => names.includes(n))
      .sort();
  };
  const sortIndexes = () =>
    indexNames([...SORT_COLUMNS.flatMap((c) => [`idx_adapters_${c}`, `idx_adapters_${c}_present`]), FOLDER_INDEX]);
  /** PostgreSQL: the search table and the functions of its triggers, as far as they exist. */
  const searchObjects = async (): Promise<string[]> => {
    const rows = await db.query<{ name: string }>(
      `SELECT relname AS name FROM pg_class WHERE relname = 'adapter_search'
       UNION ALL SELECT proname FROM pg_proc WHERE proname LIKE 'adapter_search_%' OR proname LIKE '%truncate_derived'`,
    );
    return rows.map((r) => r.name).sort();
  };
  /** The columns later migrations add, as far as they exist. */
  const addedColumns = async (): Promise<string[]> => {
    const rows = await db.query<{ name: string }>(
      pg
        ? `SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'adapters'`
        : `SELECT name FROM pragma_table_info('adapters')`,
    );
    return rows
      .map((r) => r.name)
      .filter((n) => ADDED_COLUMNS.includes(n))
      .sort();
  };

  /** The columns of the indexes migration 1764300005200 widens, in order. */
  const countIndexes = async (): Promise<Record<string, string[]>> => {
    const out: Record<string, string[]> = {};
    for (const name of Object.keys(COUNT_INDEXES)) {
      const rows = await db.query<{ name: string }>(
        pg
          ? `SELECT a.attname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, n)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE c.relname = '${name}' ORDER BY k.n`
          : `SELECT name FROM pragma_index_info('${name}') ORDER BY seqno`,
      );
      out[name] = rows.map((r) => r.name);
    }
    return out;
  };

  /** The one-column job indexes migration 1764300005300 drops, as far as they exist. */
  const prefixIndexes = () => indexNames(PREFIX_INDEXES);

  /** The tables of migration 3600, as far as they exist. */
  const resultTables = async (): Promise<string[]> => {
    const rows = await db.query<{ name: string }>(
      pg
        ? `SELECT table_name AS name FROM information_schema.tables WHERE table_name LIKE 'generation_result%'`
        : `SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'generation_result%'`,
    );
    return rows.map((r) => r.name).sort();
  };

  beforeAll(async () => {
    const created = await createDialectDatabase(pg, 'revert', dir.path);
    drop = created.drop;
    ds = dataSourceAt(created.url, [...MIGRATIONS]);
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    db = await openSeedDb(created.url);
    await seedAdapters(db, [adapterSpec('here', ['style']), adapterSpec('gone', ['style'], TOMBSTONED)]);
  }, 60_000);

  afterAll(async () => {
    await db?.close();
    await ds?.destroy();
    await drop?.();
    dir.remove();
  });

  it('should revert to the one-column sort indexes (no search table, folder index nor added columns), then apply again', async () => {
    expect(REVERTED).toEqual([
      'AdapterSearchTable1764300000900',
      'AdapterSortIndexes1764300001000',
      'AdapterSha256Verified1764300001100',
      'AdapterFolderPrefixIndex1764300001200',
      'AdapterMoreSidecarFields1764300001300',
      'AdapterFactsDigest1764300002500',
      'AdapterInactiveByDefault1764300003000',
      'AdapterHasWarnings1764300003010',
      'CreateHashRuns1764300003300',
      'AdapterCivitaiRemote1764300003400',
      'CreateProcessLeases1764300003500',
      'CreateGenerationResults1764300003600',
      'CreateCivitaiRuns1764300004000',
      'CreateCivitaiDownloads1764300004100',
      'CreateRecipes1764300004300',
      'CreateInsights1764300004600',
      'CreateRecommendations1764300004700',
      'AnalyticsRollups1764300004800',
      'AdapterPairTotals1764300004900',
      'AdapterCoUse1764300005000',
      'AdapterSearchSortKeys1764300005100',
      'AdapterCoveringCountIndexes1764300005200',
      'DropPrefixIndexes1764300005300',
    ]);
    expect(await resultTables()).toEqual(RESULT_TABLES);
    const hashRuns = async () => {
      const runner = ds.createQueryRunner();
      try {
        return await runner.hasTable('hash_runs');
      } finally {
        await runner.release();
      }
    };
    expect(await hashRuns()).toBe(true);
    expect(await addedColumns()).toEqual(ADDED_COLUMNS);
    expect(await countIndexes()).toEqual(COUNT_INDEXES);
    expect(await prefixIndexes()).toEqual([]);
    const present = [...SORT_COLUMNS.map((c) => `idx_adapters_${c}_present`), FOLDER_INDEX].sort();
    expect(await sortIndexes()).toEqual(present);
    const search = [
      'adapter_search',
      'adapter_search_del',
      'adapter_search_ins',
      'adapter_search_upd',
      'adapter_tags_truncate_derived',
      'adapters_truncate_derived',
    ];
    if (pg) expect(await searchObjects()).toEqual(search);

    for (const _ of REVERTED) await ds.undoLastMigration({ transaction: 'each' });
    expect(await sortIndexes()).toEqual(SORT_COLUMNS.map((c) => `idx_adapters_${c}`).sort());
    if (pg) expect(await searchObjects()).toEqual([]);
    expect(await addedColumns()).toEqual([]);
    expect(await countIndexes()).toEqual(
      Object.fromEntries(Object.entries(COUNT_INDEXES).map(([name, columns]) => [name, columns.slice(0, 1)])),
    );
    expect(await resultTables()).toEqual([]);
    expect(await hashRuns()).toBe(false);
    expect(await prefixIndexes()).toEqual(PREFIX_INDEXES);

    // Applied again over existing adapters: the search table is backfilled, tombstones as not present.
    expect((await ds.runMigrations({ transaction: 'each' })).map((m) => m.name)).toEqual(REVERTED);
    expect(await sortIndexes()).toEqual(present);
    expect(await resultTables()).toEqual(RESULT_TABLES);
    expect(await addedColumns()).toEqual(ADDED_COLUMNS);
    expect(await countIndexes()).toEqual(COUNT_INDEXES);
    expect(await prefixIndexes()).toEqual([]);
    if (pg) {
      const rows = await db.query<{ present: boolean }>(
        `SELECT s.present FROM adapter_search s JOIN adapters a ON a.id = s.id ORDER BY a.name`,
      );
      expect(rows.map((r) => r.present)).toEqual([false, true]);
      // With the sort keys of migration 1764300005100, copied from each adapter.
      const keys = await db.query<{ same: boolean }>(
        `SELECT (s.sort_name, s.downloads, s.likes, s.rating, s.created_at, s.file_size) IS NOT DISTINCT FROM
           (a.sort_name, a.downloads, a.likes, a.rating, a.created_at, a.file_size) AS same
         FROM adapter_search s JOIN adapters a ON a.id = s.id`,
      );
      expect(keys.map((k) => k.same)).toEqual([true, true]);
      expect(await searchObjects()).toEqual(search);
    }
  });
});
