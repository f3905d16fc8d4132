// Results export benchmark: seeds results with image files in a temp storage folder and streams them through
// ResultExportService (keyset pages, FileStorage.open, ZipWriter, metadata JSON per image, index.json) into a byte
// counter, beside a baseline in the same run: plain zip-stream storing the same files (no database, no metadata).
// Two cases: throughput (BENCH_EXPORT_LARGE results of BENCH_EXPORT_KB KB, default 1,000 × 256 KB) and scale
// (BENCH_EXPORT_MANY results of 2 KB, default 100,000): MB/s, results/s and the peak RSS growth of each.
// `npm run bench:results-export` (SQLite in a temp dir); `DATABASE_URL=postgres://…` for an empty PostgreSQL database.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { plainZip, report } from './bench-util.js';

const LARGE = Number(process.env.BENCH_EXPORT_LARGE ?? 1_000);
const LARGE_KB = Number(process.env.BENCH_EXPORT_KB ?? 256);
const MANY = Number(process.env.BENCH_EXPORT_MANY ?? 100_000);
const tmp = mkdtempSync(join(tmpdir(), 'lm-bench-export-'));
process.env.DATABASE_URL ??= `sqlite:${join(tmp, 'bench.sqlite')}`;
process.env.DATA_DIR ??= tmp;
delete process.env.LORA_ROOTS;

// The dialect is fixed when entity modules load: import them after the environment is set.
const { loadConfig, LocalFileStorage, MetricsService } = await import('../libs/core/src/index.js');
const { dataSourceOptions } = await import('../migrations/index.js');
const { GenerationResultRepository } = await import('../libs/results/src/generation-result.repository.js');
const { ResultExportService } = await import('../libs/results/src/export/result-export.service.js');
const { seedResultRows } = await import('../test/support/result-seed.js');
const { DataSource } = await import('typeorm');

const config = loadConfig();
const dataSource = new DataSource(dataSourceOptions(config));
await dataSource.initialize();
await dataSource.runMigrations({ transaction: 'each' });
const pg = dataSource.options.type === 'postgres';
const storage = new LocalFileStorage(config);
const exporter = new ResultExportService(new GenerationResultRepository(dataSource), storage, new MetricsService());

/** A writable that counts and drops what it gets (a client reading as fast as it can). */
function counter(): { sink: Writable; bytes: () => number } {
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done();
    },
  });
  return { sink, bytes: () => bytes };
}

/** Runs `work` and samples the RSS every 50 ms: its time and the peak growth over the RSS before it. */
async function measured(work: () => Promise<number>): Promise<{ seconds: number; bytes: number; rssMb: number }> {
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const started = process.hrtime.bigint();
  const bytes = await work();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(timer);
  return { seconds, bytes, rssMb: (Math.max(peak, process.memoryUsage().rss) - before) / 1048576 };
}

async function viaService(backendId: string): Promise<number> {
  const out = counter();
  const zip = await exporter.start({ filters: { backendId } }, new AbortController().signal);
  await pipeline(zip.stream, out.sink);
  return out.bytes();
}

/** Plain zip-stream over the same files, in the same order: no database, no metadata, no index. */
async function baseline(keys: string[]): Promise<number> {
  const out = counter();
  await plainZip(
    keys.map((key) => [key, join(config.storageDir, key)]),
    out.sink,
  );
  return out.bytes();
}

async function runCase(label: string, count: number, kb: number) {
  const backendId = `bench-${label}`;
  const started = Date.now();
  const seeded = await seedResultRows(
    (sql, params) => dataSource.query(sql, params),
    pg,
    config.storageDir,
    Array.from({ length: count }, (_, i) => ({
      backendId,
      createdAt: new Date(Date.UTC(2026, 0, 1) + i * 1000),
      image: randomBytes(kb * 1024),
    })),
    Buffer.alloc(0),
  );
  process.stdout.write(
    `${label}: seeded ${count} results of ${kb} KB in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  const plain = await measured(() => baseline(seeded.map((r) => r.storageKey)));
  const ours = await measured(() => viaService(backendId));
  const mb = (m: { bytes: number; seconds: number }) => `${(m.bytes / 1048576 / m.seconds).toFixed(1)} MB/s`;
  const perSecond = (m: { seconds: number }) => `${Math.round(count / m.seconds)} results/s`;
  return [
    { metric: `${label}: throughput`, measured: mb(ours), baseline: mb(plain) },
    { metric: `${label}: results/s`, measured: perSecond(ours), baseline: perSecond(plain) },
    { metric: `${label}: time`, measured: `${ours.seconds.toFixed(2)} s`, baseline: `${plain.seconds.toFixed(2)} s` },
    {
      metric: `${label}: archive`,
      measured: `${(ours.bytes / 1048576).toFixed(1)} MB`,
      baseline: `${(plain.bytes / 1048576).toFixed(1)} MB`,
    },
    {
      metric: `${label}: peak RSS growth`,
      measured: `${ours.rssMb.toFixed(0)} MB`,
      baseline: `${plain.rssMb.toFixed(0)} MB`,
    },
  ];
}

try {
  const title = `results export (${pg ? 'PostgreSQL' : 'SQLite'}, local storage)`;
  report(title, await runCase('large', LARGE, LARGE_KB));
  report(title, await runCase('many', MANY, 2));
} finally {
  await dataSource.destroy();
  rmSync(tmp, { recursive: true, force: true });
}
