// Query benchmark: seeds N adapters (default 100,000) and prints list/search p50/p95 through the
// AdapterQueryService next to a baseline measured in the same run (the bare SQL of the same match,
// without the service). `npm run bench:query` (SQLite in a temp dir); `DATABASE_URL=postgres://… ` for PostgreSQL
// on an empty database; `BENCH_ADAPTERS=20000` for another size; `BENCH_CASES=<regex>` runs only matching cases;
// `BENCH_REUSE=1` with a `DATABASE_URL` already seeded by an earlier run skips the seeding; `BENCH_SLOWEST=10` prints
// the 10 slowest distinct searches (service column) with their plans' inputs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { adapterSpec, COMMON_TERM, FOLDERS, NAME_VOCABULARY, SEARCH_TERMS, TAGS } from './adapter-corpus.js';
import { percentile } from './bench-util.js';

const N = Number(process.env.BENCH_ADAPTERS ?? 100_000);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const tmp = mkdtempSync(join(tmpdir(), 'lm-bench-query-'));
process.env.DATABASE_URL ??= `sqlite:${join(tmp, 'bench.sqlite')}`;
process.env.DATA_DIR ??= tmp;
delete process.env.LORA_ROOTS;
const DB_URL = process.env.DATABASE_URL;

// The dialect is fixed when entity modules load: import them after the environment is set (by relative path:
// the build rewrites `@app/*` only in static imports).
const { loadConfig } = await import('../libs/core/src/index.js');
const { dataSourceOptions } = await import('../migrations/index.js');
const { AdapterQueryService, AdapterSort, AdapterFacet, LibraryRoots, fts5QueryOf, tsQueryOf } =
  await import('../libs/adapters/src/index.js');
const { AdapterQueryRepository } = await import('../libs/adapters/src/library/adapter-query.repository.js');
const { AdapterRepository } = await import('../libs/adapters/src/library/adapter.repository.js');
const { DataSource } = await import('typeorm');
const { openSeedDb, seedAdapters } = await import('../test/support/adapter-seed.js');

/**
 * `count` searches, no two alike: one or two words drawn across the vocabulary's ranks (every tenth a typed prefix
 * of four letters), each asked for a page within its matches (counted beforehand, untimed) and one of three sorts.
 */
type AdapterSortValue = (typeof AdapterSort)[keyof typeof AdapterSort];
interface DistinctSearch {
  query: { q: string; page?: number; sort?: AdapterSortValue };
}
async function distinctSearches(count: number, totalOf: (q: string) => Promise<number>): Promise<DistinctSearch[]> {
  const sorts: (AdapterSortValue | undefined)[] = [undefined, undefined, AdapterSort.Downloads, AdapterSort.Name];
  const seen = new Set<string>();
  const out: DistinctSearch[] = [];
  // Deterministic: the same searches in every run.
  let state = 7;
  const next = (): number => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return state / 4_294_967_296;
  };
  // Ranks spread evenly on a log scale: as many searches for the 10 most used words as for ranks 1,000 to 3,000.
  const word = (): string =>
    NAME_VOCABULARY[Math.floor(Math.exp(next() * Math.log(NAME_VOCABULARY.length)))] ?? 'style';
  for (let attempt = 0; out.length < count && attempt < count * 20; attempt++) {
    let q = next() < 0.3 ? `${word()} ${word()}` : word();
    if (attempt % 10 === 9) q = q.slice(0, 4);
    const total = await totalOf(q);
    if (total === 0) continue;
    const page = 1 + Math.floor(next() * Math.min(5, Math.ceil(total / 50)));
    const sort = sorts[Math.floor(next() * sorts.length)];
    const key = `${q}|${page}|${sort ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ query: { q, page, ...(sort ? { sort } : {}) } });
  }
  return out;
}

async function measure(
  run: (i: number) => Promise<unknown>,
  iterations = ITERATIONS,
): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < Math.min(10, iterations); i++) await run(i);
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await run(i);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

const config = loadConfig();
const dataSource = new DataSource(dataSourceOptions(config));
await dataSource.initialize();
await dataSource.runMigrations({ transaction: 'each' });
const seedDb = await openSeedDb(DB_URL);
const pg = seedDb.pg;
try {
  const t0 = performance.now();
  const rootId = 'benchroot0001';
  const BATCH = 10_000;
  const seeded = process.env.BENCH_REUSE
    ? Number((await seedDb.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM adapters'))[0]?.n)
    : 0;
  if (seeded !== 0 && seeded !== N) throw new Error(`BENCH_REUSE: the database holds ${seeded} adapters, not ${N}`);
  for (let i = 0; seeded === 0 && i < N; i += BATCH) {
    await seedAdapters(
      seedDb,
      Array.from({ length: Math.min(BATCH, N - i) }, (_, k) => adapterSpec(i + k, rootId)),
    );
  }
  const seedMs = performance.now() - t0;
  // As an importer does after a big import (on PostgreSQL: VACUUM (ANALYZE), which also sets the visibility map).
  await new AdapterQueryRepository(dataSource).refreshStatistics();
  console.log(
    seeded === N
      ? `${pg ? 'PostgreSQL' : 'SQLite'}: ${N} adapters seeded by an earlier run (BENCH_REUSE)`
      : `${pg ? 'PostgreSQL' : 'SQLite'}: seeded ${N} adapters in ${(seedMs / 1000).toFixed(1)} s (${Math.round(N / (seedMs / 1000))} rows/s, raw multi-row inserts + tag rows + FTS index)`,
  );

  // The headline figures run every query in SQL (as the first query after any write does); the "repeated"
  // column shows the same queries answered from the SQLite read cache while the library is unchanged.
  const service = new AdapterQueryService(
    new AdapterQueryRepository(dataSource, { queryCacheEntries: 0 }),
    new AdapterRepository(dataSource),
    new LibraryRoots(config),
  );
  const cachedService = new AdapterQueryService(
    new AdapterQueryRepository(dataSource, config),
    new AdapterRepository(dataSource),
    new LibraryRoots(config),
  );
  // Two of the terms are prefixes, as a user types them.
  const terms = SEARCH_TERMS.map(([w], i) => (i % 4 === 3 ? w.slice(0, 4) : w));
  const ftsWhere = (term: string): [string, unknown[]] =>
    pg
      ? [`search_vector @@ to_tsquery('simple', $1)`, [tsQueryOf(term.split(' '))]]
      : [`rowid IN (SELECT rowid FROM adapters_fts WHERE adapters_fts MATCH ?)`, [fts5QueryOf(term.split(' '))]];
  const p = (n: number): string => (pg ? `$${n}` : '?');
  // The list's tie-break, as the repository orders: the id on PostgreSQL, the rowid on SQLite.
  const tie = pg ? 'id' : 'rowid';

  // Facets counted the plain way: one GROUP BY for the base models, one over the matches' tag rows.
  const naiveFacets = async (column: string, value: unknown): Promise<unknown> => {
    const where = `a.${column} = ${p(1)} AND a.missing_since IS NULL`;
    await seedDb.query(
      `SELECT a.base_model, COUNT(*) AS n FROM adapters a WHERE ${where} GROUP BY a.base_model ORDER BY n DESC`,
      [value],
    );
    return seedDb.query(
      `SELECT t.tag, COUNT(*) AS n FROM adapters a JOIN adapter_tags t ON t.adapter_id = a.id WHERE ${where} GROUP BY t.tag ORDER BY n DESC, t.tag LIMIT 50`,
      [value],
    );
  };

  // Distinct searches: no two alike (words common to rare, one or two words, whole words and typed prefixes, pages
  // 1 to 5 within each search's matches, three sorts), so that no cache of any kind answers one from another.
  // Each run takes the next one (warm-up runs too), so the service, repeated and baseline columns never repeat one.
  const distinct = await distinctSearches(3 * (ITERATIONS + 10), async (q) => (await service.list({ q })).total);
  let nextDistinct = 0;
  const timedDistinct: { ms: number; query: DistinctSearch['query']; total: number }[] = [];
  const takeDistinct = (): DistinctSearch['query'] => distinct[nextDistinct++ % distinct.length].query;
  const cases: {
    label: string;
    service: (s: typeof service, i: number) => Promise<unknown>;
    baseline: (i: number) => Promise<unknown>;
    baselineLabel: string;
    /** Fewer runs for a case that reads most of the library. */
    iterations?: number;
  }[] = [
    {
      label: 'no filter, page 1 (name)',
      service: (q) => q.list({}),
      baselineLabel: 'SELECT id … ORDER BY sort_name LIMIT 50',
      baseline: () =>
        seedDb.query(`SELECT id FROM adapters WHERE missing_since IS NULL ORDER BY sort_name, ${tie} LIMIT 50`),
    },
    {
      // Pages 1,000 to 1,009 (offsets 49,950 to 50,400), one a run, by downloads.
      label: 'no filter, page 1,000 (downloads)',
      service: (q, i) => q.list({ sort: AdapterSort.Downloads, page: 1000 + (i % 10) }),
      baselineLabel: 'SELECT id … ORDER BY downloads LIMIT 50 OFFSET 49,950',
      baseline: (i) =>
        seedDb.query(
          `SELECT id FROM adapters WHERE missing_since IS NULL ORDER BY downloads DESC, ${tie} DESC LIMIT 50 OFFSET ${p(1)}`,
          [(999 + (i % 10)) * 50],
        ),
    },
    {
      label: 'search one term (relevance)',
      service: (q, i) => q.list({ q: terms[i % terms.length] }),
      baselineLabel: 'FTS match, LIMIT 50, no rank/count',
      baseline: (i) => {
        const [w, params] = ftsWhere(terms[i % terms.length]);
        return seedDb.query(`SELECT id FROM adapters WHERE ${w} LIMIT 50`, params);
      },
    },
    {
      label: 'distinct searches (words, pages, sorts)',
      service: async (q) => {
        const query = takeDistinct();
        const t0 = performance.now();
        const page = await q.list(query);
        if (q === service) timedDistinct.push({ ms: performance.now() - t0, query, total: page.total });
        return page;
      },
      baselineLabel: 'FTS match, LIMIT 50 OFFSET, no rank/count',
      baseline: () => {
        const query = takeDistinct();
        const [w, params] = ftsWhere(query.q);
        return seedDb.query(
          `SELECT id FROM adapters WHERE ${w} LIMIT 50 OFFSET ${((query.page ?? 1) - 1) * 50}`,
          params,
        );
      },
    },
    {
      label: `search common term "${COMMON_TERM}" (relevance)`,
      service: (q) => q.list({ q: COMMON_TERM }),
      baselineLabel: 'FTS match, LIMIT 50, no rank/count',
      baseline: () => {
        const [w, params] = ftsWhere(COMMON_TERM);
        return seedDb.query(`SELECT id FROM adapters WHERE ${w} LIMIT 50`, params);
      },
    },
    {
      label: 'search two terms (relevance)',
      service: (q, i) => q.list({ q: `${terms[i % terms.length]} ${COMMON_TERM}` }),
      baselineLabel: 'FTS match, LIMIT 50, no rank/count',
      baseline: (i) => {
        const [w, params] = ftsWhere(`${terms[i % terms.length]} ${COMMON_TERM}`);
        return seedDb.query(`SELECT id FROM adapters WHERE ${w} LIMIT 50`, params);
      },
    },
    {
      label: 'search + baseModel + sort downloads',
      service: (q, i) => q.list({ q: terms[i % terms.length], baseModel: ['SDXL 1.0'], sort: AdapterSort.Downloads }),
      baselineLabel: 'same WHERE/ORDER as bare SQL, no count',
      baseline: (i) => {
        const [w, params] = ftsWhere(terms[i % terms.length]);
        return seedDb.query(
          `SELECT id FROM adapters WHERE ${w} AND base_model = ${p(2)} AND missing_since IS NULL ORDER BY downloads DESC, ${tie} DESC LIMIT 50`,
          [...params, 'SDXL 1.0'],
        );
      },
    },
    {
      label: 'base model "SDXL 1.0" (14 %), sort name',
      service: (q) => q.list({ baseModel: ['SDXL 1.0'] }),
      baselineLabel: 'bare base_model = ? ORDER BY name LIMIT 50',
      baseline: () =>
        seedDb.query(
          `SELECT id FROM adapters WHERE base_model = ${p(1)} AND missing_since IS NULL ORDER BY sort_name, ${tie} LIMIT 50`,
          ['SDXL 1.0'],
        ),
    },
    {
      // Typed in any case or as an alias, resolved to the stored spelling: the same plan as `SDXL 1.0`.
      label: 'base model alias "sdxl" (14 %), sort name',
      service: (q) => q.list({ baseModel: ['sdxl'] }),
      baselineLabel: 'bare base_model = ? ORDER BY name LIMIT 50',
      baseline: () =>
        seedDb.query(
          `SELECT id FROM adapters WHERE base_model = ${p(1)} AND missing_since IS NULL ORDER BY sort_name, ${tie} LIMIT 50`,
          ['SDXL 1.0'],
        ),
    },
    {
      label: 'hasWarnings (2.5 %), sort name',
      service: (q) => q.list({ hasWarnings: true }),
      baselineLabel: 'bare has_warnings = ? ORDER BY name LIMIT 50',
      baseline: () =>
        seedDb.query(
          `SELECT id FROM adapters WHERE has_warnings = ${p(1)} AND missing_since IS NULL ORDER BY sort_name, ${tie} LIMIT 50`,
          [pg ? true : 1],
        ),
    },
    {
      label: 'tag filter (any), sort name',
      service: (q, i) => q.list({ tags: [TAGS[i % 10]] }),
      baselineLabel: 'bare IN (adapter_tags) LIMIT 50',
      baseline: (i) =>
        seedDb.query(
          `SELECT id FROM adapters WHERE id IN (SELECT adapter_id FROM adapter_tags WHERE tag = ${p(1)}) AND missing_since IS NULL ORDER BY sort_name, ${tie} LIMIT 50`,
          [TAGS[i % 10]],
        ),
    },
    {
      // A base model's folder and everything under it (1/8 of the library each), sorted by name.
      label: 'folder and below (~12 %), sort name',
      service: (q, i) => q.list({ folder: FOLDERS[i % FOLDERS.length] }),
      baselineLabel: 'folder = ? OR substr(folder) = ? LIMIT 50',
      baseline: (i) => {
        const folder = FOLDERS[i % FOLDERS.length];
        return seedDb.query(
          `SELECT id FROM adapters WHERE missing_since IS NULL AND (folder = ${p(1)} OR substr(folder, 1, ${p(2)}) = ${p(3)}) ORDER BY sort_name, ${tie} LIMIT 50`,
          [folder, folder.length + 1, `${folder}/`],
        );
      },
    },
    {
      label: 'search + facets (baseModel, tags)',
      service: (q, i) => q.list({ q: terms[i % terms.length], facets: [AdapterFacet.BaseModel, AdapterFacet.Tags] }),
      baselineLabel: 'bare FTS match LIMIT 50',
      baseline: (i) => {
        const [w, params] = ftsWhere(terms[i % terms.length]);
        return seedDb.query(`SELECT id FROM adapters WHERE ${w} LIMIT 50`, params);
      },
    },
    {
      label: 'base model (14 %) + facets',
      service: (q) => q.list({ baseModel: ['SDXL 1.0'], facets: [AdapterFacet.BaseModel, AdapterFacet.Tags] }),
      baselineLabel: 'GROUP BY base model, tags JOIN',
      baseline: () => naiveFacets('base_model', 'SDXL 1.0'),
      iterations: 50,
    },
    {
      label: 'active (90 %) + facets',
      service: (q) => q.list({ active: true, facets: [AdapterFacet.BaseModel, AdapterFacet.Tags] }),
      baselineLabel: 'GROUP BY base model, tags JOIN',
      baseline: () => naiveFacets('active', pg ? true : 1),
      iterations: 20,
    },
    {
      label: 'no filter + facets (baseModel, tags)',
      service: (q) => q.list({ facets: [AdapterFacet.BaseModel, AdapterFacet.Tags] }),
      baselineLabel: 'SELECT id … LIMIT 50',
      baseline: () => seedDb.query(`SELECT id FROM adapters LIMIT 50`),
    },
  ];

  // How many rows each term matches, checked against a bare COUNT (the service's total must agree).
  const shares: string[] = [];
  for (const term of [...terms, COMMON_TERM]) {
    const [w, params] = ftsWhere(term);
    const bare = await seedDb.query<{ n: unknown }>(
      `SELECT COUNT(*) AS n FROM adapters WHERE ${w} AND missing_since IS NULL`,
      params,
    );
    const total = (await service.list({ q: term })).total;
    if (total !== Number(bare[0]?.n))
      throw new Error(`total of "${term}": service ${total}, bare SQL ${String(bare[0]?.n)}`);
    shares.push(`${term} ${((100 * total) / N).toFixed(2)} %`);
  }
  console.log(`(rows matched per search term: ${shares.join(', ')})`);
  console.log(
    `\n${'query'.padEnd(40)} ${'service p50'.padStart(12)} ${'p95'.padStart(9)}   ${'repeated p50'.padStart(12)} ${'p95'.padStart(9)}   ${'baseline p50'.padStart(12)} ${'p95'.padStart(9)}  baseline`,
  );
  const only = process.env.BENCH_CASES ? new RegExp(process.env.BENCH_CASES, 'i') : undefined;
  for (const c of cases.filter((k) => !only || only.test(k.label))) {
    const s = await measure((i) => c.service(service, i), c.iterations);
    const r = await measure((i) => c.service(cachedService, i), c.iterations);
    const b = await measure(c.baseline, c.iterations);
    const repeated = `${r.p50.toFixed(2).padStart(9)} ms ${r.p95.toFixed(2).padStart(6)} ms`;
    console.log(
      `${c.label.padEnd(40)} ${s.p50.toFixed(2).padStart(9)} ms ${s.p95.toFixed(2).padStart(6)} ms   ${repeated}   ${b.p50.toFixed(2).padStart(9)} ms ${b.p95.toFixed(2).padStart(6)} ms  ${c.baselineLabel}`,
    );
  }
  const slowest = Number(process.env.BENCH_SLOWEST ?? 0);
  if (slowest > 0 && timedDistinct.length > 0) {
    console.log(`\nslowest distinct searches (service, ${pg ? 'PostgreSQL' : 'SQLite'}):`);
    for (const t of [...timedDistinct].sort((a, b) => b.ms - a.ms).slice(0, slowest))
      console.log(`  ${t.ms.toFixed(2).padStart(7)} ms  ${JSON.stringify(t.query)}  ${t.total} matches`);
  }
  console.log(
    `\n${ITERATIONS} runs each (fewer where a case reads most of the library) after up to 10 warm-up runs;\n` +
      `"service" runs every query in SQL; "repeated" runs them with the caches on (QUERY_CACHE_ENTRIES): SQLite's read ` +
      `cache answers repeats while nothing is written, PostgreSQL keeps list rows by version and reads only each row's ` +
      `version again; targets: search p95 ≤ 20 ms at 100,000 adapters, distinct searches p95 ≤ 10 ms, on either database.`,
  );
} finally {
  await seedDb.close();
  await dataSource.destroy();
  rmSync(tmp, { recursive: true, force: true });
}
