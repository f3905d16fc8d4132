// API overhead benchmark: `GET /api/v1/adapters?limit=50` through the whole product (every middleware, guard, pipe,
// interceptor and request log) against a bare NestJS + Express route answering the same page, both served by one
// child process, so the difference is the product's own per-request work. Prints throughput at 50 connections and
// p50/p95 at 1 connection for each, alternating rounds so that other load on the machine hits both alike.
// `npm run bench:api` (SQLite in a temp dir); `DATABASE_URL=postgres://…` for an empty PostgreSQL database;
// `BENCH_ADAPTERS` (10,000), `BENCH_SECONDS` per round (5), `BENCH_ROUNDS` (3), `BENCH_CONNECTIONS` (50),
// `BENCH_ONLY=product|bare` to load one of them
// (for a profile), `BENCH_API_KEY=1` to serve with an API key (the guard then authenticates every request),
// `QUERY_CACHE_ENTRIES=0` to run the list query in SQL on every request; `BENCH_PROFILE=<dir>` writes the server's CPU
// profile there (`node --cpu-prof`).
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { percentile, report } from './bench-util.js';

const PATH = '/api/v1/adapters?limit=50';
const API_KEY = 'bench-api-key-0123456789';

interface Target {
  port: number;
  headers: Record<string, string>;
}

/** One GET, the body read and dropped; resolves with its status and size. */
function get(agent: Agent, target: Target): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: target.port, path: PATH, agent, headers: target.headers }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** `connections` keep-alive clients asking one after another for `seconds`; requests per second and latencies. */
async function load(
  target: Target,
  connections: number,
  seconds: number,
): Promise<{ rps: number; p50: number; p95: number; bytes: number; requests: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const times: number[] = [];
  let bytes = 0;
  let requests = 0;
  const warmUntil = performance.now() + 500;
  const end = warmUntil + seconds * 1000;
  const client = async (): Promise<void> => {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= end) return;
      const res = await get(agent, target);
      if (res.status !== 200) throw new Error(`status ${res.status} from port ${target.port}`);
      bytes = res.bytes;
      requests++;
      if (t0 >= warmUntil) times.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  const elapsed = (performance.now() - warmUntil) / 1000;
  agent.destroy();
  return { rps: times.length / elapsed, p50: percentile(times, 50), p95: percentile(times, 95), bytes, requests };
}

const median = (xs: number[]): number => percentile(xs, 50);

if (process.argv[2] === '--serve') {
  // The child: the product on one port, the bare route on another, in one process.
  const { NestFactory } = await import('@nestjs/core');
  const { Controller, Get, Module } = await import('@nestjs/common');
  const { ApiModule } = await import('../apps/api/src/api.module.js');
  const { configureApp } = await import('../apps/api/src/app-setup.js');
  const product = await NestFactory.create<import('@nestjs/platform-express').NestExpressApplication>(ApiModule, {
    bufferLogs: true,
    bodyParser: false,
  });
  await configureApp(product);
  await product.listen(Number(process.env.PORT), '127.0.0.1');
  const headers: Record<string, string> = process.env.API_KEYS ? { 'x-api-key': API_KEY } : {};
  const page = await new Promise<unknown>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: Number(process.env.PORT), path: PATH, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
    });
    req.on('error', reject);
    req.end();
  });
  class BareController {
    list(): unknown {
      return page;
    }
  }
  Controller('api/v1/adapters')(BareController);
  const list = Object.getOwnPropertyDescriptor(BareController.prototype, 'list') as PropertyDescriptor;
  Get()(BareController.prototype, 'list', list);
  class BareModule {}
  Module({ controllers: [BareController] })(BareModule);
  const bare = await NestFactory.create(BareModule, { logger: false });
  await bare.listen(Number(process.env.BARE_PORT), '127.0.0.1');
  // Asked to stop over IPC, it exits normally, so that `--cpu-prof` (BENCH_PROFILE) writes its profile.
  process.on('message', (message) => {
    if (message === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send?.({ cpuMicros: user + system });
    } else void Promise.all([product.close(), bare.close()]).then(() => process.exit(0));
  });
  process.send?.('ready');
} else {
  const { freePort } = await import('../test/support/app-process.js');
  const { openSeedDb, seedAdapters } = await import('../test/support/adapter-seed.js');
  const { adapterSpec } = await import('./adapter-corpus.js');
  const N = Number(process.env.BENCH_ADAPTERS ?? 10_000);
  const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
  const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
  const ONLY = process.env.BENCH_ONLY;
  const dir = mkdtempSync(join(tmpdir(), 'lm-bench-api-'));
  const databaseUrl = process.env.DATABASE_URL ?? `sqlite:${join(dir, 'bench.sqlite')}`;
  const [port, barePort] = [await freePort(), await freePort()];
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    DATA_DIR: dir,
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    BARE_PORT: String(barePort),
    LOG_FORMAT: 'json',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    ...(process.env.QUERY_CACHE_ENTRIES ? { QUERY_CACHE_ENTRIES: process.env.QUERY_CACHE_ENTRIES } : {}),
    ...(process.env.BENCH_API_KEY ? { API_KEYS: `${API_KEY}:viewer` } : {}),
  };
  const serve = () => {
    const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_PROFILE] : [];
    // The request log goes to a file, as a container runtime's or journald's log does (a pipe read by this busy
    // process would fill and stall the server's synchronous log writes, which no real log collector does).
    const log = openSync(join(dir, 'server.log'), 'a');
    const child = spawn(process.execPath, [...profile, import.meta.filename, '--serve'], {
      env,
      stdio: ['ignore', log, 'inherit', 'ipc'],
    });
    closeSync(log);
    const ready = new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`the server exited with ${code}`)));
    });
    return { child, ready };
  };
  // The database is migrated (on PostgreSQL a deploy step, not part of the boot), seeded, and its statistics
  // refreshed as the importer does after a big import; then the server starts on it.
  process.env.DATA_DIR = dir;
  process.env.DATABASE_URL = databaseUrl;
  const { loadConfig } = await import('../libs/core/src/index.js');
  const { dataSourceOptions } = await import('../migrations/index.js');
  const { AdapterQueryRepository } = await import('../libs/adapters/src/library/adapter-query.repository.js');
  const { DataSource } = await import('typeorm');
  const dataSource = await new DataSource(dataSourceOptions(loadConfig())).initialize();
  let server: ReturnType<typeof serve> | undefined;
  try {
    await dataSource.runMigrations({ transaction: 'each' });
    const db = await openSeedDb(databaseUrl);
    if (!process.env.BENCH_REUSE) {
      for (let i = 0; i < N; i += 10_000) {
        await seedAdapters(
          db,
          Array.from({ length: Math.min(10_000, N - i) }, (_, k) => adapterSpec(i + k, 'benchroot0001')),
        );
      }
    }
    await db.close();
    await new AdapterQueryRepository(dataSource).refreshStatistics();
    await dataSource.destroy();
    server = serve();
    await server.ready;
    const headers: Record<string, string> = env.API_KEYS ? { 'x-api-key': API_KEY } : {};
    const product: Target = { port, headers };
    const bare: Target = { port: barePort, headers };
    const runs = { product: [] as number[], bare: [] as number[], productP50: [] as number[], bareP50: [] as number[] };
    const p95 = { product: [] as number[], bare: [] as number[] };
    // The server's CPU time per request (user + system, read over IPC around each 50-connection run): a figure
    // that other load on the machine stretches far less than requests per second.
    const cpu = { product: [] as number[], bare: [] as number[] };
    const requests = { product: 0, bare: 0 };
    const serverCpu = (): Promise<number> =>
      new Promise((resolve) => {
        const child = server?.child;
        child?.once('message', (m: { cpuMicros: number }) => resolve(m.cpuMicros));
        child?.send('cpu');
      });
    let bytes = 0;
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, target] of [
        ['bare', bare],
        ['product', product],
      ] as const) {
        if (ONLY && ONLY !== name) continue;
        const cpuBefore = await serverCpu();
        const many = await load(target, CONNECTIONS, SECONDS);
        cpu[name].push((await serverCpu()) - cpuBefore);
        requests[name] += many.requests;
        const one = await load(target, 1, Math.max(2, SECONDS / 2));
        runs[name].push(many.rps);
        runs[name === 'product' ? 'productP50' : 'bareP50'].push(one.p50);
        p95[name].push(one.p95);
        bytes = many.bytes;
      }
    }
    const ratio = median(runs.product) / median(runs.bare);
    const perRequest = (name: 'product' | 'bare'): number =>
      cpu[name].reduce((sum, x) => sum + x, 0) / Math.max(1, requests[name]);
    const latency = median(runs.productP50) / median(runs.bareP50);
    const cache = env.QUERY_CACHE_ENTRIES === '0' ? 'query cache off' : 'query cache on';
    report(
      `GET ${PATH} (${(bytes / 1024).toFixed(1)} KB), ${N.toLocaleString()} adapters, ${databaseUrl.startsWith('postgres') ? 'PostgreSQL' : 'SQLite'}, ${cache}${env.API_KEYS ? ', API key' : ''}`,
      [
        {
          metric: `throughput at ${CONNECTIONS} connections (median of ${ROUNDS})`,
          measured: `${median(runs.product).toFixed(0)} req/s (${(100 * ratio).toFixed(0)} %)`,
          baseline: `bare Nest route: ${median(runs.bare).toFixed(0)} req/s`,
          target: '≥ 50 % of the bare route',
        },
        {
          metric: `server CPU per request at ${CONNECTIONS} connections`,
          measured: `${perRequest('product').toFixed(0)} µs (bare ${((100 * perRequest('bare')) / perRequest('product')).toFixed(0)} % of it)`,
          baseline: `bare Nest route: ${perRequest('bare').toFixed(0)} µs`,
          target: '≤ 2× the bare route',
        },
        {
          metric: 'latency at 1 connection, p50 / p95',
          measured: `${median(runs.productP50).toFixed(2)} / ${median(p95.product).toFixed(2)} ms (${latency.toFixed(2)}×)`,
          baseline: `bare Nest route: ${median(runs.bareP50).toFixed(2)} / ${median(p95.bare).toFixed(2)} ms`,
          target: 'p50 ≤ 1.5× the bare route',
        },
      ],
    );
    process.stdout.write(
      `\nrounds (req/s): product ${runs.product.map((x) => x.toFixed(0)).join(', ')}; bare ${runs.bare.map((x) => x.toFixed(0)).join(', ')}\n`,
    );
  } finally {
    const child = server?.child;
    if (child?.connected) child.send('stop');
    await new Promise((resolve) => (child && child.exitCode === null ? child.once('exit', resolve) : resolve(null)));
    if (dataSource.isInitialized) await dataSource.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
