import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { adapterSpec, openSeedDb, type SeedDb, seedAdapters } from './support/adapter-seed.js';
import { openOneConnection } from './support/one-connection.js';
import { createTestDatabase } from './support/test-services.js';

// PostgreSQL keeps list-page summaries by row version (`findPageSummaries`). With room for one page of rows, pages
// asked at once evict each other's rows while they wait for the database: each must still come back whole and
// current. The entities' column types follow `DATABASE_URL`, set before they load.
const db = await createTestDatabase('summary_cache');
process.env.DATABASE_URL = db.url;
const { buildDataSourceOptions, loadConfig } = await import('@app/core');
const { ENTITIES, MIGRATIONS } = await import('@app/migrations');
const { DataSource: TypeOrmDataSource } = await import('typeorm');
const { AdapterQueryRepository } = await import('../libs/adapters/src/library/adapter-query.repository.js');
const { AdapterSort, SortOrder, TagMode } = await import('../libs/adapters/src/library/adapter-query.model.js');

type Repo = InstanceType<typeof AdapterQueryRepository>;
type PoolQuery = (config: { name?: string; text: string; values?: unknown[] }) => Promise<{ rows: unknown[] }>;

const ADAPTERS = 130;
const LIMIT = 50;
const filterAll = { tagMode: TagMode.Any, missing: false };

describe('PostgreSQL list-page summaries kept by row version', () => {
  let ds: DataSource;
  let seed: SeedDb;
  let ids: string[];

  /** One page through the cache: the page statement, then its summaries. */
  const pageOf = async (repo: Repo, offset: number) => {
    const page = await repo.listPage(
      { tagMode: TagMode.Any, missing: false },
      { sort: AdapterSort.Name, order: SortOrder.Asc, offset, limit: LIMIT },
    );
    const { items } = await repo.findPageSummaries(page);
    return { ids: page.ids, names: items.map((a) => a.name), itemIds: items.map((a) => a.id) };
  };

  beforeAll(async () => {
    ds = new TypeOrmDataSource(buildDataSourceOptions(loadConfig(), { entities: ENTITIES, migrations: MIGRATIONS }));
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    seed = await openSeedDb(db.url);
    const names = Array.from({ length: ADAPTERS }, (_, i) => `adapter ${String(i).padStart(3, '0')}`);
    ids = await seedAdapters(
      seed,
      names.map((name) => adapterSpec(name.replace(' ', '-'), ['style'], { name })),
    );
  }, 60_000);

  afterAll(async () => {
    await seed?.close();
    await ds?.destroy();
    await db.drop();
  });

  it('should return every page whole, in order and current while pages evict each other', async () => {
    // Room for one page: every round of three pages at once evicts rows another page is about to use.
    const repo = new AdapterQueryRepository(ds, { queryCacheEntries: 1 });
    const expected = (offset: number) =>
      Array.from(
        { length: Math.min(LIMIT, ADAPTERS - offset) },
        (_, i) => `adapter ${String(offset + i).padStart(3, '0')}`,
      );
    for (let round = 0; round < 4; round++) {
      const pages = await Promise.all([0, 50, 100, 0, 100].map((offset) => pageOf(repo, offset)));
      for (const [i, offset] of [0, 50, 100, 0, 100].entries()) {
        expect(pages[i].names).toEqual(expected(offset));
        expect(pages[i].itemIds).toEqual(pages[i].ids);
      }
    }
    // A row written meanwhile by another connection reads as written on the next page.
    await seed.exec(`UPDATE adapters SET name = $1 WHERE id = $2`, ['adapter 051 renamed', ids[51]]);
    expect((await pageOf(repo, 50)).names[1]).toBe('adapter 051 renamed');
    // A row deleted is left out, not served from the cache.
    await seed.exec(`DELETE FROM adapter_tags WHERE adapter_id = $1`, [ids[52]]);
    await seed.exec(`DELETE FROM adapters WHERE id = $1`, [ids[52]]);
    const after = await pageOf(repo, 50);
    expect(after.names).not.toContain('adapter 052');
    expect(after.itemIds).toEqual(after.ids);
  });

  // Each request used to plan the first page's statement again (its LIMIT and OFFSET were parameters, and the
  // server never chose the generic plan): most of the database's share of a list request.
  it("should plan the library's first pages once per connection, and keep what it prepares bounded", async () => {
    // One connection: the prepared statements it lists are those the pages ran.
    const single = await openOneConnection(
      buildDataSourceOptions(loadConfig(), { entities: ENTITIES, migrations: MIGRATIONS }),
    );
    try {
      const repo = new AdapterQueryRepository(single.dataSource);
      const byName = (offset: number, limit: number) =>
        repo.listPage(filterAll, { sort: AdapterSort.Name, order: SortOrder.Asc, offset, limit });

      const first = (await byName(0, 5)).ids;
      for (let i = 0; i < 7; i++) expect((await byName(0, 5)).ids).toEqual(first);
      expect(await single.plans('%LIMIT 5 OFFSET 0')).toEqual([{ generic: 8, custom: 0 }]);

      // Page sizes and offsets without end: past a bound, pages take them as parameters (one statement for all).
      const asked = Array.from({ length: 80 }, (_, i) => ({ offset: i % 3, limit: 1 + Math.floor(i / 3) }));
      const pages = await Promise.all(asked.map(({ offset, limit }) => byName(offset, limit)));
      pages.forEach((page, i) => expect(page.ids).toHaveLength(Math.min(asked[i].limit, page.total - asked[i].offset)));
      const [{ n }] = await single.rows<{ n: number }>(`SELECT count(*)::int AS n FROM pg_prepared_statements`);
      expect(n).toBeGreaterThan(60);
      expect(n).toBeLessThanOrEqual(66);
    } finally {
      await single.dataSource.destroy();
    }
  });

  // The whole library's first page comes with its total from one statement. An import's batch that commits just
  // after that statement must not lend the page a total of its own: a client listing the library while an import
  // ran once saw "0 items" beside "total 1500" (test/scale-out.e2e-spec.ts).
  it("should give the library's first page the total of its own snapshot while an import's batch commits", async () => {
    await seed.exec('DELETE FROM adapter_tags', []);
    await seed.exec('DELETE FROM adapters', []);
    const repo = new AdapterQueryRepository(ds);
    const firstPage = (offset = 0) =>
      repo.listPage(
        { tagMode: TagMode.Any, missing: false },
        { sort: AdapterSort.Name, order: SortOrder.Asc, offset, limit: 20 },
      );
    // The batch commits right after the next named (prepared) statement, the page's, has answered.
    const pool = (ds.driver as unknown as { master: { query: PoolQuery } }).master;
    const query = pool.query;
    pool.query = async (config) => {
      const result = await query.call(pool, config);
      if (config.name) {
        pool.query = query;
        await seedAdapters(seed, [
          adapterSpec('ink', ['style']),
          adapterSpec('oil', ['style']),
          adapterSpec('hero', []),
        ]);
      }
      return result;
    };
    try {
      // The statement saw an empty library; the batch committed before the page was answered.
      expect(await firstPage()).toMatchObject({ total: 0, ids: [] });
    } finally {
      pool.query = query;
    }
    // The next page sees the batch, rows and total alike.
    const next = await firstPage();
    expect(next.total).toBe(3);
    expect(next.ids).toHaveLength(3);
    // A page past the end still says how many there are.
    expect(await firstPage(40)).toMatchObject({ total: 3, ids: [] });
  });
});
