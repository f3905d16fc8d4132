import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { adapterSpec, openSeedDb, type SeedDb, seedAdapters } from './support/adapter-seed.js';
import { createDialectDatabase, dataSourceAt, tempDir } from './support/test-services.js';

// The migrations only: no entity is loaded, so both dialects can run in one file.
const { MIGRATIONS } = await import('@app/migrations');

const DIALECTS = [
  { name: 'SQLite', pg: false },
  { name: 'PostgreSQL', pg: true },
];

/** The first migration under test; it and every later one are applied over a database of the version before. */
const FIRST = 'AdapterInactiveByDefault1764300003000';
const UNDER_TEST = ['AdapterInactiveByDefault1764300003000', 'AdapterHasWarnings1764300003010'];

describe.each(DIALECTS)('the inactive-by-default and has-warnings migrations on $name', ({ pg }) => {
  const dir = tempDir(pg ? 'lib-defaults-pg' : 'lib-defaults-sqlite');
  let drop: (() => Promise<void>) | undefined;
  let ds: DataSource;
  let db: SeedDb;
  const later = MIGRATIONS.slice(MIGRATIONS.findIndex((m) => m.name === FIRST));

  /** The `active` column's default as the database reports it, read as a boolean. */
  const activeDefault = async (): Promise<boolean> => {
    const [row] = await db.query<{ d: string }>(
      pg
        ? `SELECT column_default AS d FROM information_schema.columns WHERE table_name = 'adapters' AND column_name = 'active'`
        : `SELECT dflt_value AS d FROM pragma_table_info('adapters') WHERE name = 'active'`,
    );
    expect(['true', 'false', '1', '0']).toContain(String(row.d));
    return row.d === 'true' || row.d === '1';
  };
  const column = async (name: 'active' | 'has_warnings'): Promise<Record<string, boolean>> => {
    const rows = await db.query<{ name: string; v: unknown }>(`SELECT name, ${name} AS v FROM adapters ORDER BY name`);
    return Object.fromEntries(rows.map((r) => [r.name, r.v === true || r.v === 1]));
  };
  const hasWarningsColumn = async (): Promise<boolean> => {
    const rows = await db.query<{ name: string }>(
      pg
        ? `SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'adapters'`
        : `SELECT name FROM pragma_table_info('adapters')`,
    );
    return rows.some((r) => r.name === 'has_warnings');
  };

  beforeAll(async () => {
    const created = await createDialectDatabase(pg, 'lib_defaults', dir.path);
    drop = created.drop;
    // A database of the version before: every migration up to the first under test.
    ds = dataSourceAt(created.url, MIGRATIONS.slice(0, MIGRATIONS.length - later.length));
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    await ds.destroy();
    db = await openSeedDb(created.url);
    await seedAdapters(db, [
      adapterSpec('chosen', ['style'], { active: true, ordinal: 1 }),
      adapterSpec('dropped', ['style'], { active: false }),
      adapterSpec('warned', ['style'], { active: true }),
    ]);
    await db.exec(`UPDATE adapters SET warnings = ${pg ? '$1::jsonb' : '?'} WHERE name = 'warned'`, [
      JSON.stringify(['.civitai.info: not valid JSON']),
    ]);
    ds = dataSourceAt(created.url, [...MIGRATIONS]);
    await ds.initialize();
  }, 60_000);

  afterAll(async () => {
    await db?.close();
    await ds?.destroy();
    await drop?.();
    dir.remove();
  });

  it('should make new adapters inactive by default, keep every flag and mark the warned adapters, both ways', async () => {
    const flags = { chosen: true, dropped: false, warned: true };
    expect(await activeDefault()).toBe(true);
    expect(await column('active')).toEqual(flags);
    expect(await hasWarningsColumn()).toBe(false);

    expect((await ds.runMigrations({ transaction: 'each' })).map((m) => m.name)).toEqual(
      expect.arrayContaining(UNDER_TEST),
    );
    expect(await activeDefault()).toBe(false);
    expect(await column('active')).toEqual(flags);
    expect(await column('has_warnings')).toEqual({ chosen: false, dropped: false, warned: true });

    // Reverted (with every later migration): the old default, the same flags, no column; then applied again.
    for (const _ of later) await ds.undoLastMigration({ transaction: 'each' });
    expect(await activeDefault()).toBe(true);
    expect(await column('active')).toEqual(flags);
    expect(await hasWarningsColumn()).toBe(false);
    await ds.runMigrations({ transaction: 'each' });
    expect(await activeDefault()).toBe(false);
    expect(await column('active')).toEqual(flags);
    expect(await column('has_warnings')).toEqual({ chosen: false, dropped: false, warned: true });
  });
});
