import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import { adapterSpec, openSeedDb, seedAdapters, TOMBSTONED } from './support/adapter-seed.js';
import { createDialectDatabase, dataSourceAt, runMigrationsAt, tempDir } from './support/test-services.js';

// The SQL each query plan of `AdapterQueryRepository` sends, on each database, recorded as a snapshot: a change to
// a plan's SQL shows in review as a change to `__snapshots__/adapter-query-sql.e2e-spec.ts.snap`. The statements
// run against real, seeded databases, so every one of them is also valid SQL there.

// The migrations only: no entity is loaded, so both dialects can run in one file.
const { MIGRATIONS } = await import('@app/migrations');
const { AdapterQueryRepository } = await import('../libs/adapters/src/library/adapter-query.repository.js');
const { AdapterSort, SortOrder, TagMode } = await import('../libs/adapters/src/library/adapter-query.model.js');

type Repo = InstanceType<typeof AdapterQueryRepository>;
type Filter = Parameters<Repo['count']>[0];

const DIALECTS = [
  { name: 'SQLite', pg: false },
  { name: 'PostgreSQL', pg: true },
];

const filter = (f: Partial<Filter> = {}): Filter => ({ tagMode: TagMode.Any, missing: false, ...f });
const page = (sort = AdapterSort.Name, order = SortOrder.Asc) => ({ sort, order, offset: 0, limit: 2 });

/** Each plan: a name, and the call that makes the repository choose it. */
const PLANS: { plan: string; run: (repo: Repo) => Promise<unknown> }[] = [
  { plan: 'count, whole library', run: (r) => r.count(filter()) },
  { plan: 'count, tombstones', run: (r) => r.count(filter({ missing: true })) },
  { plan: 'count, one tag (every match minus the tombstoned)', run: (r) => r.count(filter({ tags: ['style'] })) },
  { plan: 'count, search alone', run: (r) => r.count(filter({ searchTerms: ['style'] })) },
  {
    plan: 'count, combined filter',
    run: (r) =>
      r.count(filter({ baseModels: ['SDXL 1.0'], tags: ['style', 'anime'], tagMode: TagMode.All, favorite: true })),
  },
  { plan: 'count, folder and below', run: (r) => r.count(filter({ folder: 'styles', nsfwMax: 4 })) },
  {
    plan: 'count, adapters with import warnings (every match minus the tombstoned)',
    run: (r) => r.count(filter({ hasWarnings: true })),
  },
  {
    plan: 'count, adapters with import warnings of some base models',
    run: (r) => r.count(filter({ hasWarnings: true, baseModels: ['SDXL 1.0', 'sdxl'] })),
  },
  { plan: 'page by name', run: (r) => r.listPage(filter(), page()) },
  {
    plan: 'page by rating, descending',
    run: (r) => r.listPage(filter({ tags: ['style'] }), page(AdapterSort.Rating, SortOrder.Desc)),
  },
  { plan: 'page of tombstones', run: (r) => r.listPage(filter({ missing: true }), page()) },
  {
    plan: 'page by relevance, search alone',
    run: (r) => r.listPage(filter({ searchTerms: ['style'] }), page(AdapterSort.Relevance, SortOrder.Desc)),
  },
  {
    plan: 'page by relevance, search and filter',
    run: (r) =>
      r.listPage(
        filter({ searchTerms: ['style'], baseModels: ['SDXL 1.0'] }),
        page(AdapterSort.Relevance, SortOrder.Desc),
      ),
  },
  { plan: 'page with facets, whole library', run: (r) => r.listPage(filter(), page(), 10) },
  { plan: 'page with facets, filtered', run: (r) => r.listPage(filter({ baseModels: ['SDXL 1.0'] }), page(), 10) },
  {
    plan: 'page with facets, search by relevance',
    run: (r) => r.listPage(filter({ searchTerms: ['style'] }), page(AdapterSort.Relevance, SortOrder.Desc), 10),
  },
  { plan: 'tag counts with a prefix', run: (r) => r.tagCounts(10, 'st') },
  { plan: 'base-model counts', run: (r) => r.baseModelCounts() },
];

/** Plans that change with the cache on: PostgreSQL then reads each page row's state (`xmin`, update flag) with the page. */
const CACHED_PLANS: typeof PLANS = [
  { plan: 'page by name, cache on', run: (r) => r.listPage(filter(), page()) },
  {
    plan: 'page by rating of a tag, cache on',
    run: (r) => r.listPage(filter({ tags: ['style'] }), page(AdapterSort.Rating, SortOrder.Desc)),
  },
  { plan: 'page past the end, cache on', run: (r) => r.listPage(filter(), { ...page(), offset: 100 }) },
  {
    plan: 'a page at offset 1,000, cache on (counted first: no state columns for the skipped rows)',
    run: (r) => r.listPage(filter(), { ...page(), offset: 1000 }),
  },
];

describe.each(DIALECTS)('adapter query SQL on $name', ({ pg }) => {
  const dir = tempDir(pg ? 'qsql-pg' : 'qsql-sqlite');
  let drop: (() => Promise<void>) | undefined;
  let ds: DataSource;
  let repo: Repo;
  let recorded: string[] = [];

  beforeAll(async () => {
    const created = await createDialectDatabase(pg, 'query_sql', dir.path);
    drop = created.drop;
    await runMigrationsAt(created.url, [...MIGRATIONS]);
    const db = await openSeedDb(created.url);
    await seedAdapters(db, [
      adapterSpec('ink', ['style', 'anime'], {
        relativePath: 'styles/ink.safetensors',
        favorite: true,
        rating: 4.5,
        warnings: ['.civitai.info: not valid JSON'],
      }),
      adapterSpec('oil', ['style'], { relativePath: 'styles/deep/oil.safetensors', baseModel: 'Pony' }),
      adapterSpec('hero', ['character'], { relativePath: 'characters/hero.safetensors', rating: null }),
      adapterSpec('gone', ['style'], { relativePath: 'old/gone.safetensors', ...TOMBSTONED }),
    ]);
    await db.close();
    ds = dataSourceAt(created.url);
    await ds.initialize();
    const query = ds.query.bind(ds);
    ds.query = ((sql: string, params?: unknown[]) => {
      recorded.push(sql);
      return query(sql, params);
    }) as DataSource['query'];
    if (pg) {
      // Statements prepared by name go to the driver's pool directly (`pgPrepared`).
      const pool = (ds.driver as unknown as { master: { query: (config: { text: string }) => Promise<unknown> } })
        .master;
      const poolQuery = pool.query.bind(pool);
      pool.query = (config: { text: string }) => {
        recorded.push(config.text);
        return poolQuery(config);
      };
    }
    // No read cache: every plan sends its SQL.
    repo = new AdapterQueryRepository(ds, { queryCacheEntries: 0 });
  }, 60_000);

  afterAll(async () => {
    await ds?.destroy();
    await drop?.();
    dir.remove();
  });

  it.each(PLANS)('should send the SQL recorded for: $plan', async ({ run }) => {
    recorded = [];
    await run(repo);
    expect(recorded.length).toBeGreaterThan(0);
    expect(recorded.join('\n')).toMatchSnapshot();
  });

  it.each(CACHED_PLANS)('should send the SQL recorded for: $plan', async ({ run }) => {
    recorded = [];
    // A repository of its own: its (SQLite) read cache starts empty, so every statement is sent.
    await run(new AdapterQueryRepository(ds));
    expect(recorded.length).toBeGreaterThan(0);
    expect(recorded.join('\n')).toMatchSnapshot();
  });

  it('should give a page its rows in order with their states (PostgreSQL, cache on), and none past the end', async () => {
    const cached = new AdapterQueryRepository(ds);
    const uncached = await repo.listPage(filter(), { ...page(), limit: 10 });
    const withStates = await cached.listPage(filter(), { ...page(), limit: 10 });
    expect(withStates.ids).toEqual(uncached.ids);
    expect(withStates.total).toBe(uncached.total);
    expect(uncached.ids.length).toBe(3);
    if (pg) {
      expect([...withStates.states!.keys()]).toEqual(uncached.ids);
      for (const state of withStates.states!.values())
        expect(state).toEqual({ version: expect.stringMatching(/^\d+$/), hasUpdate: false });
    }
    const past = await cached.listPage(filter(), { ...page(), offset: 100 });
    expect(past).toMatchObject({ total: 3, ids: [] });
  });
});
