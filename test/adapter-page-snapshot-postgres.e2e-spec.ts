import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { adapterSpec, openSeedDb, type SeedDb, seedAdapters } from './support/adapter-seed.js';
import { createTestDatabase } from './support/test-services.js';

// On PostgreSQL the whole library's first page comes with its total from one statement. An import's batch that
// commits just after that statement must not lend the page a total of its own: a client listing the library while
// an import ran once saw "0 items" beside "total 1500" (test/scale-out.e2e-spec.ts). The entities' column types
// follow `DATABASE_URL`, set before they load.
const db = await createTestDatabase('page_snapshot');
process.env.DATABASE_URL = db.url;
const { buildDataSourceOptions, loadConfig } = await import('@app/core');
const { ENTITIES, MIGRATIONS } = await import('@app/migrations');
const { DataSource: TypeOrmDataSource } = await import('typeorm');
const { AdapterQueryRepository } = await import('../libs/adapters/src/library/adapter-query.repository.js');
const { AdapterSort, SortOrder, TagMode } = await import('../libs/adapters/src/library/adapter-query.model.js');

type PoolQuery = (config: { name?: string; text: string; values?: unknown[] }) => Promise<{ rows: unknown[] }>;

describe('the first page of the library on PostgreSQL while an import commits', () => {
  let ds: DataSource;
  let seed: SeedDb;
  /** Runs once, right after the next named (prepared) statement answers: the moment an import's batch commits. */
  let afterNextPageStatement: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ds = new TypeOrmDataSource(buildDataSourceOptions(loadConfig(), { entities: ENTITIES, migrations: MIGRATIONS }));
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    seed = await openSeedDb(db.url);
    const pool = (ds.driver as unknown as { master: { query: PoolQuery } }).master;
    const query = pool.query.bind(pool);
    pool.query = async (config) => {
      const result = await query(config);
      const hook = config.name ? afterNextPageStatement : undefined;
      afterNextPageStatement = undefined;
      await hook?.();
      return result;
    };
  }, 60_000);

  afterAll(async () => {
    await seed?.close();
    await ds?.destroy();
    await db.drop();
  });

  const firstPage = (repo: InstanceType<typeof AdapterQueryRepository>, offset = 0) =>
    repo.listPage(
      { tagMode: TagMode.Any, missing: false },
      { sort: AdapterSort.Name, order: SortOrder.Asc, offset, limit: 20 },
    );

  it("should give a page the total of the page's own snapshot, not one counted after a batch committed", async () => {
    const repo = new AdapterQueryRepository(ds);
    afterNextPageStatement = async () => {
      await seedAdapters(seed, [adapterSpec('ink', ['style']), adapterSpec('oil', ['style']), adapterSpec('hero', [])]);
    };
    // The statement saw an empty library; the batch committed before the page was answered.
    expect(await firstPage(repo)).toMatchObject({ total: 0, ids: [] });
    // The next page sees the batch, rows and total alike.
    const next = await firstPage(repo);
    expect(next.total).toBe(3);
    expect(next.ids).toHaveLength(3);
    // A page past the end still says how many there are.
    expect(await firstPage(repo, 40)).toMatchObject({ total: 3, ids: [] });
  });
});
