// Recommendation benchmark: seeds N adapters (default 100,000; the library of bench:query) and generation co-usage
// rows, builds the recommendation index, and prints similar-adapters, for-prompt and by-trigger p50/p95 through the
// RecommendationsService next to a baseline measured in the same run (the plain full-text query for the same terms).
// `npm run bench:recommendations` (SQLite in a temp dir); `DATABASE_URL=postgres://…` for PostgreSQL on an empty
// database; `BENCH_ADAPTERS=20000` for another size.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { adapterSpec, COMMON_TERM, SEARCH_TERMS } from './adapter-corpus.js';
import { percentile, report } from './bench-util.js';

const N = Number(process.env.BENCH_ADAPTERS ?? 100_000);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
/** Images with two adapters each, so that co-usage has something to say. */
const CO_USED_IMAGES = Math.round(N / 5);
const TARGET_MS = 30;
const tmp = mkdtempSync(join(tmpdir(), 'lm-bench-recommend-'));
process.env.DATABASE_URL ??= `sqlite:${join(tmp, 'bench.sqlite')}`;
process.env.DATA_DIR ??= tmp;
delete process.env.LORA_ROOTS;
const DB_URL = process.env.DATABASE_URL;

// The dialect is fixed when entity modules load: import them after the environment is set.
const { loadConfig } = await import('../libs/core/src/index.js');
const { dataSourceOptions } = await import('../migrations/index.js');
const { fts5QueryOf, tsQueryOf } = await import('../libs/adapters/src/index.js');
const { LexicalSimilarityModel, RecommendationIndexService, RecommendationsRepository, RecommendationsService } =
  await import('../libs/insights/src/index.js');
const { DataSource } = await import('typeorm');
const { openSeedDb, seedAdapters } = await import('../test/support/adapter-seed.js');

async function measure(run: (i: number) => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 10; i++) await run(i);
  const times: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const t0 = performance.now();
    await run(i);
    times.push(performance.now() - t0);
  }
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

const ms = (n: number): string => `${n.toFixed(1)} ms`;

const dataSource = new DataSource(dataSourceOptions(loadConfig()));
await dataSource.initialize();
await dataSource.runMigrations({ transaction: 'each' });
const seedDb = await openSeedDb(DB_URL);
const pg = seedDb.pg;
try {
  const t0 = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < N; i += 10_000) {
    const part = Array.from({ length: Math.min(10_000, N - i) }, (_, k) => adapterSpec(i + k, 'benchroot0001'));
    ids.push(...(await seedAdapters(seedDb, part)));
  }
  const p = (n: number): string => (pg ? `$${n}` : '?');
  await seedDb.transaction(async () => {
    for (let i = 0; i < CO_USED_IMAGES; i += 500) {
      const values: string[] = [];
      const params: unknown[] = [];
      for (let k = i; k < Math.min(CO_USED_IMAGES, i + 500); k++) {
        const result = randomUUID();
        // Adapters near each other in the seed order are used together, some much more than others.
        const a = (k * 7919) % N;
        const b = (a + 1 + (k % 13)) % N;
        for (const adapter of [ids[a], ids[b]]) {
          values.push(`(${p(params.length + 1)}, ${p(params.length + 2)}, NULL)`);
          params.push(result, adapter);
        }
      }
      await seedDb.exec(
        `INSERT INTO generation_result_adapters (result_id, adapter_id, base_model) VALUES ${values.join(', ')}`,
        params,
      );
    }
  });
  // Planner statistics for the fresh rows, as a running database has them (PostgreSQL otherwise guesses seq scans).
  await seedDb.exec('ANALYZE', []);
  console.log(
    `${pg ? 'PostgreSQL' : 'SQLite'}: seeded ${N} adapters and ${CO_USED_IMAGES} co-used images in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  const repository = new RecommendationsRepository(dataSource);
  const indexes = new RecommendationIndexService(repository, new LexicalSimilarityModel());
  const service = new RecommendationsService(repository, indexes);
  const rssBefore = process.memoryUsage().rss;
  const built = await indexes.rebuild(0);
  const rssAfter = process.memoryUsage().rss;

  // Present adapters only (every 100th is tombstoned).
  const sample = ids.filter((_, i) => i % 100 !== 0);
  const pickId = (i: number): string => sample[(i * 104_729) % sample.length];
  const terms = SEARCH_TERMS.map(([w]) => w);
  const promptOf = (i: number): string =>
    `a ${terms[i % terms.length]} girl, ${terms[(i + 3) % terms.length]}, ${COMMON_TERM}, city at night, <lora:x:0.8>`;
  const ftsWhere = (words: string[]): [string, unknown[]] =>
    pg
      ? [`search_vector @@ to_tsquery('simple', $1)`, [tsQueryOf(words)]]
      : [`rowid IN (SELECT rowid FROM adapters_fts WHERE adapters_fts MATCH ?)`, [fts5QueryOf(words)]];
  const fts = (words: string[]): Promise<unknown> => {
    const [where, params] = ftsWhere(words);
    return seedDb.query(`SELECT id FROM adapters WHERE ${where} AND missing_since IS NULL LIMIT 50`, params);
  };
  const nameWords = new Map<string, string[]>();
  const namesOf = async (id: string): Promise<string[]> => {
    let words = nameWords.get(id);
    if (!words) {
      const [row] = await seedDb.query<{ name: string }>(`SELECT name FROM adapters WHERE id = ${p(1)}`, [id]);
      words = row.name
        .split(' ')
        .filter((w) => !/^v\d$/.test(w))
        .slice(0, 2);
      nameWords.set(id, words);
    }
    return words;
  };
  for (let i = 0; i < ITERATIONS + 10; i++) await namesOf(pickId(i));

  const similar = await measure((i) => service.similar(pickId(i), { limit: 10, includeIncompatible: false }));
  const similarBase = await measure(async (i) => fts(await namesOf(pickId(i))));
  const prompt = await measure((i) =>
    service.forPrompt({ prompt: promptOf(i), limit: 10, includeIncompatible: false, baseModel: 'SDXL 1.0' }),
  );
  const promptBase = await measure((i) => fts([terms[i % terms.length], terms[(i + 3) % terms.length]]));
  const trigger = await measure((i) => service.byTrigger(terms[i % terms.length], 10));
  const triggerBase = await measure((i) => fts([terms[i % terms.length]]));
  const hits = (await service.similar(pickId(1), { limit: 10, includeIncompatible: false })).length;

  report(`Recommendations at ${N} adapters (${pg ? 'PostgreSQL' : 'SQLite'}, ${ITERATIONS} runs each)`, [
    {
      metric: 'index build (read + tokenize + postings)',
      measured: `${(built.buildMs / 1000).toFixed(2)} s (${built.documents} adapters, ${built.terms} terms, +${Math.round((rssAfter - rssBefore) / 1e6)} MB RSS)`,
      baseline: '',
    },
    {
      metric: `similar adapters p50 / p95 (${hits} hits)`,
      measured: `${ms(similar.p50)} / ${ms(similar.p95)}`,
      baseline: `FTS of the name's words: ${ms(similarBase.p50)} / ${ms(similarBase.p95)}`,
      target: `p95 ≤ ${TARGET_MS} ms`,
    },
    {
      metric: 'for-prompt p50 / p95 (SDXL family)',
      measured: `${ms(prompt.p50)} / ${ms(prompt.p95)}`,
      baseline: `FTS of two terms: ${ms(promptBase.p50)} / ${ms(promptBase.p95)}`,
      target: `p95 ≤ ${TARGET_MS} ms`,
    },
    {
      metric: 'by-trigger p50 / p95',
      measured: `${ms(trigger.p50)} / ${ms(trigger.p95)}`,
      baseline: `FTS of the word: ${ms(triggerBase.p50)} / ${ms(triggerBase.p95)}`,
    },
  ]);
} finally {
  await seedDb.close();
  await dataSource.destroy();
  rmSync(tmp, { recursive: true, force: true });
}
