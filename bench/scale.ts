/**
 * `npm run bench:scale`: how scale-out throughput grows with processes, on PostgreSQL + Redis (TEST_PG_URL,
 * TEST_REDIS_URL as for the tests), printed side by side:
 *
 * - queued generations/s with 1 and 2 workers: BENCH_JOBS jobs (default 300) queued at once through one API over
 *   BENCH_BACKENDS fake SD.Next backends (default 4) at zero step time, until the last `generation.completed`
 *   reaches a Socket.IO client;
 * - adapter queries/s (`GET /api/v1/adapters?q=…&limit=20`) with 1 and 2 API instances: BENCH_CONCURRENCY
 *   requests in flight (default 16), spread round-robin over the instances, for BENCH_SECONDS (default 10) over
 *   BENCH_ADAPTERS seeded adapters (default 20,000).
 *
 * Every process (the apps, the fakes, this load generator) shares the machine: on 2 cores, expect gains only as
 * far as a core is idle.
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { AppProcess, freePort, runCli } from '../test/support/app-process.js';
import { openSeedDb, seedAdapters } from '../test/support/adapter-seed.js';
import { FakeSdNext } from '../test/support/fake-sdnext.js';
import { ProgressClient } from '../test/support/progress-client.js';
import { createRedisPrefix, createTestDatabase, REDIS_URL, tempDir } from '../test/support/test-services.js';
import { percentile } from './bench-util.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 300);
const BACKENDS = Number(process.env.BENCH_BACKENDS ?? 4);
const ADAPTERS = Number(process.env.BENCH_ADAPTERS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WORDS = [
  'anime',
  'style',
  'dragon',
  'cyber',
  'knight',
  'witch',
  'neon',
  'mecha',
  'portrait',
  'forest',
  'robot',
  'pixel',
];
const TERMS = ['dragon', 'cyber', 'knight', 'witch', 'neon', 'mecha'];

async function startApp(app: 'api' | 'worker', env: Record<string, string>): Promise<AppProcess> {
  const port = await freePort();
  const proc = new AppProcess(app, { ...env, [app === 'api' ? 'PORT' : 'WORKER_PORT']: String(port) }, port).start();
  await proc.waitReady();
  return proc;
}

async function generationsPerSecond(api: AppProcess, label: string): Promise<number> {
  const client = new ProgressClient(api.baseUrl);
  try {
    await client.connected();
    await client.subscribe({ topic: 'generations' });
    const queue = async (prompt: string): Promise<string> => {
      const res = await fetch(`${api.baseUrl}/api/v1/generation/queue-generation`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt, steps: 1 }),
      });
      if (res.status !== 201) throw new Error(`queue-generation answered ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    };
    const end = (id: string) =>
      client.waitFor(
        (e) => e.payload.jobId === id && (e.event === 'generation.completed' || e.event === 'generation.failed'),
        180_000,
      );
    for (const id of await Promise.all(Array.from({ length: 8 }, (_, i) => queue(`${label} warm ${i}`)))) await end(id);
    const t0 = performance.now();
    const ids = await Promise.all(Array.from({ length: JOBS }, (_, i) => queue(`${label} ${i}`)));
    const ends = await Promise.all(ids.map(end));
    const seconds = (performance.now() - t0) / 1000;
    const failed = ends.filter((e) => e.event !== 'generation.completed').length;
    if (failed > 0) throw new Error(`${failed} of ${JOBS} generations failed`);
    return JOBS / seconds;
  } finally {
    client.close();
  }
}

async function queriesPerSecond(apis: AppProcess[]): Promise<{ rps: number; p50: number; p95: number }> {
  let next = 0;
  const one = async (): Promise<number> => {
    const api = apis[next % apis.length];
    const term = TERMS[next % TERMS.length];
    next++;
    const t0 = performance.now();
    const res = await fetch(`${api.baseUrl}/api/v1/adapters?q=${term}&limit=20`);
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`adapters query answered ${res.status}`);
    return performance.now() - t0;
  };
  for (let i = 0; i < 50; i++) await one(); // warm both instances' caches and pools
  const latencies: number[] = [];
  const deadline = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < deadline) latencies.push(await one());
    }),
  );
  return {
    rps: latencies.length / ((performance.now() - t0) / 1000),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
  };
}

async function main(): Promise<void> {
  const dir = tempDir('bench-scale');
  const redis = createRedisPrefix('bench-scale');
  const db = await createTestDatabase('bench_scale');
  const fakes = Array.from({ length: BACKENDS }, () => new FakeSdNext({ flavour: 'sdnext', stepMs: 0 }));
  const running: AppProcess[] = [];
  const stopAll = async (procs: AppProcess[]) => {
    await Promise.all(procs.map((p) => p.stop()));
    for (const p of procs) running.splice(running.indexOf(p), 1);
  };
  try {
    const urls = await Promise.all(fakes.map((f) => f.start()));
    const env = {
      DATA_DIR: join(dir.path, 'data'),
      DATABASE_URL: db.url,
      REDIS_URL,
      REDIS_PREFIX: redis.prefix,
      SDNEXT_URL: urls.join(','),
      LOG_LEVEL: 'warn',
    };
    const migrated = await runCli(['migrate'], env);
    if (migrated.code !== 0) throw new Error(`migrate failed:\n${migrated.output}`);
    const seedDb = await openSeedDb(db.url);
    try {
      for (let i = 0; i < ADAPTERS; i += 5000) {
        await seedAdapters(
          seedDb,
          Array.from({ length: Math.min(5000, ADAPTERS - i) }, (_, k) => {
            const n = i + k;
            const words = [WORDS[n % WORDS.length], WORDS[(n * 7 + 3) % WORDS.length], `w${n % 997}`];
            return {
              rootId: 'benchroot0001',
              relativePath: `d${n % 100}/${words.join('_')}_${n}.safetensors`,
              name: `${words.join(' ')} v${n}`,
              tags: [words[0], words[1]],
            };
          }),
        );
      }
      await seedDb.exec('ANALYZE', []);
    } finally {
      await seedDb.close();
    }

    const api1 = await startApp('api', env);
    running.push(api1);
    const generation: Record<number, number> = {};
    for (const workerCount of [1, 2]) {
      const workers = await Promise.all(Array.from({ length: workerCount }, () => startApp('worker', env)));
      running.push(...workers);
      generation[workerCount] = await generationsPerSecond(api1, `w${workerCount}`);
      await stopAll(workers);
    }

    const query: Record<number, { rps: number; p50: number; p95: number }> = {};
    query[1] = await queriesPerSecond([api1]);
    const api2 = await startApp('api', env);
    running.push(api2);
    query[2] = await queriesPerSecond([api1, api2]);

    const rows = [
      [
        'queued generations/s (fakes at 0 ms/step)',
        generation[1].toFixed(1),
        generation[2].toFixed(1),
        `×${(generation[2] / generation[1]).toFixed(2)}`,
      ],
      [
        'adapter queries/s (q=…, limit 20)',
        query[1].rps.toFixed(0),
        query[2].rps.toFixed(0),
        `×${(query[2].rps / query[1].rps).toFixed(2)}`,
      ],
      ['  query p50 ms', query[1].p50.toFixed(1), query[2].p50.toFixed(1), ''],
      ['  query p95 ms', query[1].p95.toFixed(1), query[2].p95.toFixed(1), ''],
    ];
    const header = ['metric', '1 process', '2 processes', 'scaling'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
    process.stdout.write(
      `\n## Scale-out throughput (${cpus().length} cores; ${JOBS} jobs over ${BACKENDS} backends; ${ADAPTERS} adapters, ${CONCURRENCY} in flight for ${SECONDS} s)\n\n` +
        `${line(header)}\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |\n${rows.map(line).join('\n')}\n`,
    );
  } finally {
    await Promise.allSettled(running.map((p) => p.stop()));
    await Promise.allSettled(fakes.map((f) => f.stop()));
    await redis.clear();
    await db.drop();
    dir.remove();
  }
}

await main();
