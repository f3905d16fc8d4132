// Results list benchmark: seeds N generation results (default 100,000, each linked to 1–2 of 500 adapters) and
// prints list p50/p95 through GenerationResultRepository.list (keyset paging, every filter the API has) next to
// a bare SQL baseline of the same match measured in the same run. `npm run bench:results` (SQLite in a temp dir);
// `DATABASE_URL=postgres://…` for PostgreSQL on an empty database; `BENCH_RESULTS=20000` for another size.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, report, time } from './bench-util.js';
import { RESULT_COLUMNS } from '../test/support/result-seed.js';

const N = Number(process.env.BENCH_RESULTS ?? 100_000);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 200);
const tmp = mkdtempSync(join(tmpdir(), 'lm-bench-results-'));
process.env.DATABASE_URL ??= `sqlite:${join(tmp, 'bench.sqlite')}`;
process.env.DATA_DIR ??= tmp;
delete process.env.LORA_ROOTS;

// The dialect is fixed when entity modules load: import them after the environment is set.
const { loadConfig } = await import('../libs/core/src/index.js');
const { dataSourceOptions } = await import('../migrations/index.js');
const { GenerationResultRepository } = await import('../libs/results/src/generation-result.repository.js');
const { ResultSort } = await import('../libs/results/src/result-query.js');
const { DataSource } = await import('typeorm');

let seed = 42;
const rand = (): number => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];

const WORDS = ['fox', 'cat', 'castle', 'portrait', 'forest', 'neon', 'city', 'watercolor', 'armor', 'sunset', 'robot'];
const BASE_MODELS = ['SD 1.5', 'SDXL 1.0', 'Pony', 'Illustrious', 'Flux.1 D'];
const BACKENDS = ['sdnext-0', 'sdnext-1', 'sdnext-2'];
const ADAPTERS = Array.from({ length: 500 }, (_, i) => ({
  id: randomUUID(),
  base: BASE_MODELS[i % 5],
  name: `lora${i}`,
}));

const config = loadConfig();
const dataSource = new DataSource(dataSourceOptions(config));
await dataSource.initialize();
await dataSource.runMigrations({ transaction: 'each' });
const pg = dataSource.options.type === 'postgres';
const ph = (i: number): string => (pg ? `$${i}` : '?');
const ts = (d: Date): string => (pg ? d.toISOString() : d.toISOString().replace('T', ' ').replace('Z', ''));

const COLUMNS = RESULT_COLUMNS;

async function seedResults(): Promise<{ seconds: number; anAdapter: string }> {
  const started = Date.now();
  const t0 = Date.UTC(2026, 0, 1);
  const batch = 100;
  for (let from = 0; from < N; from += batch) {
    const rows: unknown[][] = [];
    const links: unknown[][] = [];
    for (let i = from; i < Math.min(N, from + batch); i++) {
      const id = randomUUID();
      const used = [pick(ADAPTERS), ...(rand() < 0.5 ? [pick(ADAPTERS)] : [])].filter(
        (a, k, all) => all.findIndex((b) => b.id === a.id) === k,
      );
      const prompt = `${pick(WORDS)} ${pick(WORDS)} ${pick(WORDS)} ${used.map((a) => `<lora:${a.name}:0.8>`).join(' ')}`;
      const created = new Date(t0 + i * 60_000);
      const loras = used.map((a) => ({
        adapterId: a.id,
        name: a.name,
        weight: 0.8,
        sha256: null,
        autov2: null,
        baseModel: a.base,
      }));
      rows.push([
        id,
        randomUUID(),
        0,
        `generations/${id}/0.png`,
        'png',
        'image/png',
        512,
        512,
        400_000,
        Math.floor(rand() * 1e9),
        JSON.stringify({ prompt, steps: 20 }),
        prompt,
        'blurry',
        JSON.stringify(loras),
        'model',
        pick(BACKENDS),
        ts(created),
        ts(created),
        4000,
        Math.floor(rand() * 6),
        pg ? rand() < 0.05 : rand() < 0.05 ? 1 : 0,
        '[]',
        null,
        ts(created),
        ts(created),
      ]);
      for (const a of used) links.push([id, a.id, a.base]);
    }
    let n = 0;
    const values = rows.map((r) => `(${r.map(() => ph(++n)).join(', ')})`).join(', ');
    await dataSource.query(`INSERT INTO generation_results (${COLUMNS.join(', ')}) VALUES ${values}`, rows.flat());
    n = 0;
    const linkValues = links.map((r) => `(${r.map(() => ph(++n)).join(', ')})`).join(', ');
    await dataSource.query(
      `INSERT INTO generation_result_adapters (result_id, adapter_id, base_model) VALUES ${linkValues}`,
      links.flat(),
    );
  }
  if (pg) await dataSource.query('ANALYZE');
  else await dataSource.query('ANALYZE');
  return { seconds: (Date.now() - started) / 1000, anAdapter: ADAPTERS[7].id };
}

async function measure(fn: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 5; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) times.push((await time(fn)).ms);
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

const seeded = await seedResults();
process.stdout.write(`seeded ${N} results on ${pg ? 'PostgreSQL' : 'SQLite'} in ${seeded.seconds.toFixed(1)} s\n`);
const repository = new GenerationResultRepository(dataSource);
const deepCursor = await (async () => {
  let cursor: string | undefined;
  for (let i = 0; i < 50; i++) cursor = (await repository.list({ limit: 50, cursor })).nextCursor ?? undefined;
  return cursor!;
})();
const deepKey = JSON.parse(Buffer.from(deepCursor, 'base64url').toString()) as { k: string; id: string };
const like = pg ? 'ILIKE' : 'LIKE';
const ORDER = 'ORDER BY r.created_at DESC, r.id DESC LIMIT 51';
const cases: { name: string; service: () => Promise<unknown>; sql: [string, unknown[]] }[] = [
  {
    name: 'first page (newest 50)',
    service: () => repository.list({ limit: 50 }),
    sql: [`SELECT * FROM generation_results r ${ORDER}`, []],
  },
  {
    name: 'page 51 by cursor',
    service: () => repository.list({ limit: 50, cursor: deepCursor }),
    sql: [
      `SELECT * FROM generation_results r WHERE (r.created_at < ${ph(1)} OR (r.created_at = ${ph(1)} AND r.id < ${ph(2)})) ${ORDER}`,
      pg ? [ts(new Date(deepKey.k)), deepKey.id] : [ts(new Date(deepKey.k)), ts(new Date(deepKey.k)), deepKey.id],
    ],
  },
  {
    name: 'favorite',
    service: () => repository.list({ limit: 50, favorite: true }),
    sql: [`SELECT * FROM generation_results r WHERE r.favorite = ${ph(1)} ${ORDER}`, [pg ? true : 1]],
  },
  {
    name: 'rating >= 4',
    service: () => repository.list({ limit: 50, minRating: 4 }),
    sql: [`SELECT * FROM generation_results r WHERE r.rating >= ${ph(1)} ${ORDER}`, [4]],
  },
  {
    name: 'backend',
    service: () => repository.list({ limit: 50, backendId: 'sdnext-1' }),
    sql: [`SELECT * FROM generation_results r WHERE r.backend_id = ${ph(1)} ${ORDER}`, ['sdnext-1']],
  },
  {
    name: 'adapter used',
    service: () => repository.list({ limit: 50, adapterId: seeded.anAdapter }),
    sql: [
      `SELECT * FROM generation_results r WHERE EXISTS (SELECT 1 FROM generation_result_adapters ra WHERE ra.result_id = r.id AND ra.adapter_id = ${ph(1)}) ${ORDER}`,
      [seeded.anAdapter],
    ],
  },
  {
    name: 'base model',
    service: () => repository.list({ limit: 50, baseModel: 'Pony' }),
    sql: [
      `SELECT * FROM generation_results r WHERE EXISTS (SELECT 1 FROM generation_result_adapters rb WHERE rb.result_id = r.id AND rb.base_model = ${ph(1)}) ${ORDER}`,
      ['Pony'],
    ],
  },
  {
    name: 'text in prompts',
    service: () => repository.list({ limit: 50, q: 'sunset castle' }),
    sql: [
      `SELECT * FROM generation_results r WHERE (r.prompt ${like} ${ph(1)} OR r.negative_prompt ${like} ${ph(1)}) ${ORDER}`,
      pg ? ['%sunset castle%'] : ['%sunset castle%', '%sunset castle%'],
    ],
  },
  {
    name: 'sort by rating',
    service: () => repository.list({ limit: 50, sort: ResultSort.Rating }),
    sql: [`SELECT * FROM generation_results r ORDER BY r.rating DESC, r.id DESC LIMIT 51`, []],
  },
];
const rows: { metric: string; measured: string; baseline: string; target?: string }[] = [];
for (const c of cases) {
  const service = await measure(c.service);
  const bare = await measure(() => dataSource.query(c.sql[0], c.sql[1]));
  rows.push({
    metric: `list p95 (p50): ${c.name}`,
    measured: `${service.p95.toFixed(2)} ms (${service.p50.toFixed(2)})`,
    baseline: `${bare.p95.toFixed(2)} ms (${bare.p50.toFixed(2)}) bare SQL`,
    target: '< 50 ms',
  });
}
report(
  `Results list at ${N.toLocaleString('en')} rows (${pg ? 'PostgreSQL' : 'SQLite'}, ${ITERATIONS} runs each)`,
  rows,
);
await dataSource.destroy();
rmSync(tmp, { recursive: true, force: true });
