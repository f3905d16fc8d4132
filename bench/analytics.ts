// Analytics benchmark: seeds 100,000 generation jobs over 30 days (3 backends; 85 % succeeded with a result linked
// to 1–3 of 500 adapters, 10 % failed with a dozen kinds of error, 5 % cancelled), 20,000 deliveries and 5,000
// adapter edits, then times each analytics statement through the lib next to a bare `SELECT COUNT(*)` of the same
// range in the same run. `npm run bench:analytics` runs SQLite, then PostgreSQL (TEST_PG_URL, a fresh database)
// each in its own process; `BENCH_JOBS=20000` for another size, `BENCH_DIALECT=sqlite|postgres` for one only.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile, report, time } from './bench-util.js';

const N = Number(process.env.BENCH_JOBS ?? 100_000);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 30);
const DAY_MS = 24 * 60 * 60 * 1000;

if (process.env.BENCH_ANALYTICS_CHILD === undefined) {
  const { createTestDatabase } = await import('../test/support/test-services.js');
  const dialects = (process.env.BENCH_DIALECT ?? 'sqlite,postgres').split(',');
  let failed = 0;
  for (const dialect of dialects) {
    const tmp = mkdtempSync(join(tmpdir(), 'lm-bench-analytics-'));
    const db = dialect === 'postgres' ? await createTestDatabase('bench_analytics') : null;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      BENCH_ANALYTICS_CHILD: '1',
      DATA_DIR: tmp,
      DATABASE_URL: db ? db.url : `sqlite:${join(tmp, 'bench.sqlite')}`,
    };
    delete env.LORA_ROOTS;
    delete env.REDIS_URL;
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], { stdio: 'inherit', env });
    if (child.status !== 0) failed++;
    await db?.drop();
    rmSync(tmp, { recursive: true, force: true });
  }
  process.exit(failed > 0 ? 1 : 0);
}

// The dialect is fixed when entity modules load: import them after the environment is set.
const { loadConfig } = await import('../libs/core/src/index.js');
const { dataSourceOptions } = await import('../migrations/index.js');
const { AnalyticsRepository } = await import('../libs/insights/src/analytics/analytics.repository.js');
const { AnalyticsService } = await import('../libs/insights/src/analytics/analytics.service.js');
const { ActivityService } = await import('../libs/insights/src/activity/activity.service.js');
const { StatsBucket } = await import('../libs/insights/src/analytics/analytics.model.js');
const { openSeedDb, seedAdapters } = await import('../test/support/adapter-seed.js');
const { seedDeliveries, seedGenerations } = await import('../test/support/job-seed.js');
const { DataSource } = await import('typeorm');
type SeedGeneration = import('../test/support/job-seed.js').SeedGeneration;
type SeedDelivery = import('../test/support/job-seed.js').SeedDelivery;

let seed = 42;
const rand = (): number => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];

const config = loadConfig();
const dataSource = new DataSource(dataSourceOptions(config));
await dataSource.initialize();
await dataSource.runMigrations({ transaction: 'each' });
const pg = dataSource.options.type === 'postgres';
const end = new Date(Date.UTC(2026, 0, 31));
const start = new Date(end.getTime() - 30 * DAY_MS);

async function seedAll(): Promise<number> {
  const started = Date.now();
  const db = await openSeedDb(process.env.DATABASE_URL!);
  const adapterIds = await seedAdapters(
    db,
    Array.from({ length: 500 }, (_, i) => ({
      rootId: 'root00000001',
      relativePath: `lora${i}.safetensors`,
      name: `lora${i}`,
      baseModel: pick(['SD 1.5', 'SDXL 1.0', 'Pony', 'Illustrious']),
      fileSize: 100_000_000,
    })),
  );
  const errors = Array.from({ length: 12 }, (_, k) => `SD.Next backend error kind ${String.fromCharCode(65 + k)}`);
  const step = (end.getTime() - start.getTime()) / N;
  for (let from = 0; from < N; from += 10_000) {
    const jobs: SeedGeneration[] = [];
    for (let i = from; i < Math.min(N, from + 10_000); i++) {
      const r = rand();
      const createdAt = new Date(start.getTime() + i * step);
      const backendId = pick(['sdnext-0', 'sdnext-1', 'sdnext-2']);
      if (r < 0.85) {
        const used = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(adapterIds));
        jobs.push({
          status: 'succeeded',
          backendId,
          createdAt,
          durationMs: 2000 + Math.floor(rand() * 30_000),
          adapterIds: used,
        });
      } else if (r < 0.95) {
        jobs.push({
          status: 'failed',
          backendId,
          createdAt,
          durationMs: 50,
          error: `${pick(errors)} after ${Math.floor(rand() * 900)} s`,
        });
      } else {
        jobs.push({ status: 'cancelled', backendId: null, createdAt });
      }
    }
    await seedGenerations(db, jobs);
  }
  const deliveries: SeedDelivery[] = Array.from({ length: N / 5 }, (_, i) => ({
    mode: pick(['http', 'cli', 'sdnext']),
    status: rand() < 0.9 ? 'succeeded' : 'failed',
    createdAt: new Date(start.getTime() + i * step * 5),
    error: 'receiver answered 503',
  }));
  await seedDeliveries(db, deliveries);
  await db.close();
  await dataSource.query(pg ? 'VACUUM ANALYZE' : 'ANALYZE');
  return (Date.now() - started) / 1000;
}

async function measure(fn: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 3; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) times.push((await time(fn)).ms);
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

const seconds = await seedAll();
process.stdout.write(`seeded ${N} generation jobs on ${pg ? 'PostgreSQL' : 'SQLite'} in ${seconds.toFixed(1)} s\n`);
const analytics = new AnalyticsService(new AnalyticsRepository(dataSource));
const activity = new ActivityService(dataSource);
const ph = (i: number): string => (pg ? `$${i}` : '?');
const ts = (d: Date): unknown => (pg ? d : d.toISOString().replace('T', ' ').replace('Z', ''));
const week = { from: new Date(end.getTime() - 7 * DAY_MS), to: end };
const month = { from: start, to: end };
const countIn = (table: string, range: { from: Date; to: Date }) => () =>
  dataSource.query(`SELECT COUNT(*) AS n FROM ${table} WHERE created_at >= ${ph(1)} AND created_at < ${ph(2)}`, [
    ts(range.from),
    ts(range.to),
  ]);
const secondPage = (await activity.list({ limit: 30 })).nextCursor!;

const cases: { name: string; run: () => Promise<unknown>; baseline: () => Promise<unknown>; what: string }[] = [
  {
    name: 'summary (500 adapters)',
    run: () => analytics.summary(),
    baseline: () => dataSource.query('SELECT COUNT(*) FROM adapters'),
    what: 'count adapters',
  },
  {
    name: 'generations hourly, 7 days',
    run: () => analytics.generations({ ...week, bucket: StatsBucket.Hour }),
    baseline: countIn('generation_jobs', week),
    what: 'count jobs in range',
  },
  {
    name: 'generations daily, 30 days (all jobs)',
    run: () => analytics.generations({ ...month, bucket: StatsBucket.Day }),
    baseline: countIn('generation_jobs', month),
    what: 'count jobs in range',
  },
  {
    name: 'generations hourly, 30 days (all jobs)',
    run: () => analytics.generations({ ...month, bucket: StatsBucket.Hour }),
    baseline: countIn('generation_jobs', month),
    what: 'count jobs in range',
  },
  {
    name: 'top adapters + pairs, 7 days',
    run: () => analytics.adapters({ ...week, limit: 10 }),
    baseline: countIn('generation_results', week),
    what: 'count results in range',
  },
  {
    name: 'top adapters + pairs, 30 days',
    run: () => analytics.adapters({ ...month, limit: 10 }),
    baseline: countIn('generation_results', month),
    what: 'count results in range',
  },
  {
    name: 'failure reasons, 30 days',
    run: () => analytics.failures(month),
    baseline: countIn('generation_jobs', month),
    what: 'count jobs in range',
  },
  {
    name: 'delivery outcomes, 30 days',
    run: () => analytics.deliveries(month),
    baseline: countIn('delivery_jobs', month),
    what: 'count deliveries in range',
  },
  {
    name: 'activity feed, first page',
    run: () => activity.list({ limit: 30 }),
    baseline: () => dataSource.query('SELECT COUNT(*) FROM generation_jobs'),
    what: 'count all jobs',
  },
  {
    name: 'activity feed, page 2 (cursor)',
    run: () => activity.list({ limit: 30, cursor: secondPage }),
    baseline: () => dataSource.query('SELECT COUNT(*) FROM generation_jobs'),
    what: 'count all jobs',
  },
];
const rows: { metric: string; measured: string; baseline: string; target?: string }[] = [];
for (const c of cases) {
  const measured = await measure(c.run);
  const bare = await measure(c.baseline);
  rows.push({
    metric: `p95 (p50): ${c.name}`,
    measured: `${measured.p95.toFixed(1)} ms (${measured.p50.toFixed(1)})`,
    baseline: `${bare.p95.toFixed(1)} ms (${bare.p50.toFixed(1)}) ${c.what}`,
    target: '≤ 100 ms',
  });
}
report(
  `Analytics at ${N.toLocaleString('en')} generation jobs (${pg ? 'PostgreSQL' : 'SQLite'}, ${ITERATIONS} runs each)`,
  rows,
);
await dataSource.destroy();
