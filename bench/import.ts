// npm run bench:import — cold import, no-change resync and 1 % resync of a generated 10,000-adapter corpus on
// SQLite, and hashing throughput; each next to a baseline measured in the same run. The first table times whole
// processes as a user waits for them: the CLI beside a plain-Node reference importer (bench/import-reference.ts).
import { execFileSync, spawn } from 'node:child_process';
import { open, utimes, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { entryOf, runCli } from '../test/support/app-process.js';
import { tempDir } from '../test/support/test-services.js';
import { percentile, report, time } from './bench-util.js';

const loadAverage = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');

const COUNT = Number(process.env.BENCH_ADAPTERS ?? 10_000);
/** Cold imports by the real CLI, each a fresh process into a fresh index: their median is the cold figure. */
const CLI_RUNS = Math.max(1, Number(process.env.BENCH_CLI_RUNS ?? 5));
/** Whole-process runs of each kind (CLI and reference alternate, so both meet the same load). */
const PROCESS_RUNS = Math.max(5, Number(process.env.BENCH_PROCESS_RUNS ?? 5));
const REFERENCE = fileURLToPath(new URL('./import-reference.js', import.meta.url));
const dir = tempDir('import');
process.env.DATA_DIR = join(dir.path, 'data');
process.env.LORA_ROOTS = join(dir.path, 'loras');
process.env.LOG_LEVEL = 'warn';
process.env.LOG_FORMAT = 'json';

const { generateCorpus, writeAdapter } = await import('../test/support/corpus-builder.js');
const { NestFactory } = await import('@nestjs/core');
const { HashPolicy, ImportService, hashFile } = await import('../libs/adapters/src/index.js');
// The modules `cli import` boots, in this process: the in-process figures measure the CLI's own path.
const { ImportCliModule } = await import('../apps/cli/src/import-cli.module.js');
const { DataSource } = await import('typeorm');
const Database = (await import('better-sqlite3')).default;

/** One process, start → exit, with its standard output. */
function timedProcess(args: string[], env: Record<string, string>): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve({ ms, stdout });
      else reject(new Error(`${args.join(' ')} exited ${code}:\n${stdout}${stderr}`));
    });
  });
}

interface CliSummary {
  startupMs: number;
  counts: { added: number; updated: number; unchanged: number };
}

const cliSummary = (stdout: string): CliSummary => {
  const line = stdout.split('\n').find((l) => l.startsWith('{"runId"'));
  if (!line) throw new Error(`no JSON summary in:\n${stdout}`);
  return JSON.parse(line) as CliSummary;
};

/**
 * The whole-process table: cold import, no-change resync and 1 %-changed resync (half the files touched, half
 * rewritten), each the median of PROCESS_RUNS CLI processes beside as many reference processes in the same run.
 */
async function wholeProcess(
  root: string,
  files: { relPath: string }[],
): Promise<{ metric: string; measured: string; baseline: string; target?: string }[]> {
  const cliRun = async (dataDir: string) => {
    const run = await timedProcess([entryOf('cli'), 'import', '--json', '--hash', 'lazy'], {
      DATA_DIR: dataDir,
      LORA_ROOTS: root,
      LOG_LEVEL: 'warn',
    });
    return { ms: run.ms, summary: cliSummary(run.stdout) };
  };
  const referenceRun = async (mode: 'import' | 'resync', database: string) => {
    const run = await timedProcess([REFERENCE, mode, database, root], {});
    return { ms: run.ms, counts: JSON.parse(run.stdout) as { added: number; updated: number; unchanged: number } };
  };
  const cold = { cli: [] as number[], reference: [] as number[], startup: [] as number[] };
  for (let i = 0; i < PROCESS_RUNS; i++) {
    const cli = await cliRun(join(dir.path, `process-${i}`));
    if (cli.summary.counts.added !== files.length) throw new Error(`the CLI added ${cli.summary.counts.added}`);
    cold.cli.push(cli.ms);
    cold.startup.push(cli.summary.startupMs);
    cold.reference.push((await referenceRun('import', join(dir.path, `reference-${i}.sqlite`))).ms);
  }
  // Resyncs reuse the last cold import's index on both sides.
  const last = PROCESS_RUNS - 1;
  const cliData = join(dir.path, `process-${last}`);
  const referenceDb = join(dir.path, `reference-${last}.sqlite`);
  const none = { cli: [] as number[], reference: [] as number[], startup: [] as number[] };
  for (let i = 0; i < PROCESS_RUNS; i++) {
    const cli = await cliRun(cliData);
    if (cli.summary.counts.unchanged !== files.length) throw new Error(`no-change resync: ${JSON.stringify(cli)}`);
    none.cli.push(cli.ms);
    none.startup.push(cli.summary.startupMs);
    none.reference.push((await referenceRun('resync', referenceDb)).ms);
  }
  const onePct = { cli: [] as number[], reference: [] as number[], startup: [] as number[] };
  const step = 100;
  for (let i = 0; i < PROCESS_RUNS; i++) {
    // 1 % of the files, different ones each run: every other one touched (new mtime), the rest rewritten.
    const later = new Date(Date.now() + (i + 1) * 60_000);
    for (let f = i, k = 0; f < files.length; f += step, k++) {
      const relPath = files[f].relPath;
      if (k % 2 === 0) await utimes(join(root, relPath), later, later);
      else await writeAdapter(root, { relPath, safetensors: { seed: `rewritten-${i}-${f}` } });
    }
    const cli = await cliRun(cliData);
    if (cli.summary.counts.updated === 0) throw new Error(`1 % resync updated nothing: ${JSON.stringify(cli)}`);
    onePct.cli.push(cli.ms);
    onePct.startup.push(cli.summary.startupMs);
    const reference = await referenceRun('resync', referenceDb);
    if (reference.counts.updated === 0) throw new Error('the reference resync updated nothing');
    onePct.reference.push(reference.ms);
  }
  // Node's own start, before any of our code: process start → its first line of JavaScript. This VM sets
  // NODE_EXTRA_CA_CERTS, which Node reads (the whole CA bundle) before that line; a machine without it starts faster,
  // so the CLI's start-up without it is measured too (no-change runs).
  const firstLine = ['-e', 'process.stdout.write(String(performance.now()))'];
  const caFile = process.env.NODE_EXTRA_CA_CERTS;
  const boot = { asIs: [] as number[], withoutCa: [] as number[], cliWithoutCa: [] as number[] };
  for (let i = 0; i < PROCESS_RUNS; i++) {
    boot.asIs.push(Number((await timedProcess(firstLine, {})).stdout));
    if (!caFile) continue;
    boot.withoutCa.push(Number((await timedProcess(firstLine, { NODE_EXTRA_CA_CERTS: '' })).stdout));
    const run = await timedProcess([entryOf('cli'), 'import', '--json', '--hash', 'lazy'], {
      DATA_DIR: cliData,
      LORA_ROOTS: root,
      LOG_LEVEL: 'warn',
      NODE_EXTRA_CA_CERTS: '',
    });
    boot.cliWithoutCa.push(cliSummary(run.stdout).startupMs);
  }
  const ms = (samples: number[]) => `${Math.round(percentile(samples, 50))} ms`;

  const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const row = (metric: string, m: typeof cold, target: string) => {
    const cli = percentile(m.cli, 50);
    const reference = percentile(m.reference, 50);
    return {
      metric: `${metric}, whole process, median of ${PROCESS_RUNS}`,
      measured:
        `${seconds(cli)} (${seconds(Math.min(...m.cli))}–${seconds(Math.max(...m.cli))}; ` +
        `start-up ${Math.round(percentile(m.startup, 50))} ms) = ${(reference / cli).toFixed(2)}× the reference`,
      baseline: `plain-Node reference: ${seconds(reference)} (${seconds(Math.min(...m.reference))}–${seconds(Math.max(...m.reference))})`,
      target,
    };
  };
  return [
    row(`cold import of ${COUNT.toLocaleString('en-US')} (CLI hashes lazily, reference hashes all)`, cold, '≥ 1.0×'),
    row('no-change resync', none, '≥ 0.83× (≤ 1.2× its time)'),
    row('resync after 1 % changed (half touched, half rewritten)', onePct, '≥ 0.83× (≤ 1.2× its time)'),
    {
      metric: 'CLI start-up: process start → import begins, median of all runs',
      measured: ms([...cold.startup, ...none.startup, ...onePct.startup]),
      baseline:
        `Node's own start (process start → first line of JS): ${ms(boot.asIs)}; ` +
        `reference whole no-change resync: ${seconds(percentile(none.reference, 50))}`,
      target: '≤ 300 ms',
    },
    ...(caFile
      ? [
          {
            metric: `the same without NODE_EXTRA_CA_CERTS (this machine sets it), median of ${PROCESS_RUNS} no-change runs`,
            measured: ms(boot.cliWithoutCa),
            baseline: `Node's own start without it: ${ms(boot.withoutCa)}`,
            target: '≤ 300 ms',
          },
        ]
      : []),
  ];
}

try {
  process.stdout.write(`Generating ${COUNT} adapters with sidecars in ${dir.path} …\n`);
  const corpus = await generateCorpus(process.env.LORA_ROOTS, COUNT);
  // Whole processes first, in a corpus of their own (the in-process rows below rewrite files of theirs).
  const processRoot = join(dir.path, 'process-loras');
  const processCorpus = await generateCorpus(processRoot, COUNT);
  const processRows = await wholeProcess(processRoot, processCorpus.files);
  report(
    `Import of ${COUNT.toLocaleString('en-US')} adapters on SQLite, whole processes (uptime: ${loadAverage()})`,
    processRows,
  );

  // The cold import as a user runs it: `npm run cli -- import`, a new process with a cold JIT each time. One
  // run on a shared 2-core VM varies by up to 1.5x, so the table shows the median of several with their range.
  const cliImports = async (roots: string, runs: number, name: string) => {
    const out: { importMs: number; processMs: number; added: number; workerThreads: number }[] = [];
    for (let i = 0; i < runs; i++) {
      const env = { DATA_DIR: join(dir.path, `${name}-${i}`), LORA_ROOTS: roots, LOG_LEVEL: 'warn' };
      const run = await time(() => runCli(['import', '--json', '--hash', 'lazy'], env, 300_000));
      const line = run.value.output.split('\n').find((l) => l.startsWith('{"runId"'));
      if (run.value.code !== 0 || !line)
        throw new Error(`CLI import failed (exit ${run.value.code}):\n${run.value.output}`);
      const summary = JSON.parse(line) as { durationMs: number; workerThreads: number; counts: { added: number } };
      out.push({
        importMs: summary.durationMs,
        processMs: run.ms,
        added: summary.counts.added,
        workerThreads: summary.workerThreads,
      });
    }
    const ms = out.map((r) => r.importMs);
    return {
      runs: out,
      median: percentile(ms, 50),
      range: `${(Math.min(...ms) / 1000).toFixed(2)}–${(Math.max(...ms) / 1000).toFixed(2)} s`,
      process: percentile(
        out.map((r) => r.processMs),
        50,
      ),
    };
  };
  const cli = await cliImports(process.env.LORA_ROOTS, CLI_RUNS, 'cli');
  // The same number of LoRAs in one folder, as many users keep them (about 22,000 names in it).
  const flatRoot = join(dir.path, 'flat');
  await generateCorpus(flatRoot, COUNT, { perDir: COUNT });
  const flat = await cliImports(flatRoot, Math.ceil(CLI_RUNS / 2), 'flat');
  const app = await NestFactory.createApplicationContext(ImportCliModule.forRoot(), { logger: ['error'] });
  const importer = app.get(ImportService);

  // The CLI's path (synchronous small reads, files read in worker threads) in this process, whose main thread
  // has run Nest and the corpus generator but never the reading code: it also builds the index the resyncs use.
  const cold = await time(() => importer.run({ hash: HashPolicy.Lazy, syncIo: true }));
  const none = await time(() => importer.run({ syncIo: true }));
  // 1 % changed: rewrite every 100th file with new content.
  for (let i = 0; i < corpus.files.length; i += 100) {
    await writeAdapter(process.env.LORA_ROOTS, {
      relPath: corpus.files[i].relPath,
      safetensors: { seed: `changed-${i}` },
    });
  }
  const onePct = await time(() => importer.run({ syncIo: true }));
  const dataSource = app.get(DataSource);
  // The API job path (asynchronous reads, so the server stays responsive): a second, fresh index.
  await dataSource.query('DELETE FROM adapter_tags');
  await dataSource.query('DELETE FROM adapters');
  const coldAsync = await time(() => importer.run({ hash: HashPolicy.Lazy }));
  const noneAsync = await time(() => importer.run());
  // The CLI path with every file read on the main thread (IMPORT_WORKERS=0). It runs last, so this process's
  // code is already optimised by the JIT, unlike a fresh CLI process (or the thread of the first row).
  await dataSource.query('DELETE FROM adapter_tags');
  await dataSource.query('DELETE FROM adapters');
  const coldInline = await time(() => importer.run({ hash: HashPolicy.Lazy, syncIo: true, workers: 0 }));

  // Baseline: the same rows written by a raw better-sqlite3 prepared statement in one transaction.
  const rows = await dataSource.query<Record<string, unknown>[]>('SELECT * FROM adapters');
  const raw = new Database(join(dir.path, 'baseline.sqlite'));
  raw.pragma('journal_mode = WAL');
  const columns = Object.keys(rows[0]);
  raw.exec(`CREATE TABLE t (${columns.map((c) => `"${c}"`).join(', ')})`);
  const insert = raw.prepare(`INSERT INTO t VALUES (${columns.map(() => '?').join(', ')})`);
  const rawInsert = await time(() => {
    raw.transaction(() => {
      for (const r of rows) insert.run(...columns.map((c) => r[c] as string | number | null));
    })();
    return Promise.resolve();
  });
  raw.close();

  // Baseline for the no-change resync: only stat every file (what "unchanged" may cost).
  const { stat } = await import('node:fs/promises');
  const statOnly = await time(() =>
    Promise.all(corpus.files.map((f) => stat(join(process.env.LORA_ROOTS!, f.relPath)))),
  );
  await app.close();

  // Hashing: a 512 MiB file through hashFile vs sha256sum (and openssl) over the same bytes.
  const big = join(dir.path, 'big.safetensors');
  const fh = await open(big, 'w');
  const block = Buffer.alloc(16 << 20, 7);
  for (let i = 0; i < 32; i++) await fh.write(block);
  await fh.close();
  const mb = 512;
  execFileSync('sha256sum', [big]); // warm the page cache for both
  const ours = await time(() => hashFile(big));
  const theirs = await time(() => Promise.resolve(execFileSync('sha256sum', [big])));
  await writeFile(join(dir.path, 'done'), '');

  const threads = (n: number) => `${n} worker thread${n === 1 ? '' : 's'}`;
  const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;
  report(`Import of ${COUNT.toLocaleString('en-US')} adapters on SQLite`, [
    {
      metric: `cold import, CLI (lazy hash, ${threads(cli.runs[0].workerThreads)}), median of ${CLI_RUNS} new processes`,
      measured: `${(cli.median / 1000).toFixed(2)} s = ${rate(COUNT, cli.median)} (${cli.range}; whole process ${(cli.process / 1000).toFixed(2)} s)`,
      baseline: `raw prepared INSERT of the same rows: ${rate(rows.length, rawInsert.ms)}`,
      target: '≥ 5,000/s',
    },
    {
      metric: `the same, all in one folder, median of ${flat.runs.length}`,
      measured: `${(flat.median / 1000).toFixed(2)} s = ${rate(COUNT, flat.median)} (${flat.range})`,
      baseline: `100 folders of 100: ${rate(COUNT, cli.median)}`,
    },
    {
      metric: `cold import, CLI path in this process (${threads(cold.value.workerThreads)})`,
      measured: `${(cold.ms / 1000).toFixed(2)} s = ${rate(COUNT, cold.ms)}`,
      baseline: `CLI processes: ${rate(COUNT, cli.median)}`,
    },
    {
      metric: 'cold import, CLI path, main thread only (JIT warm)',
      measured: `${(coldInline.ms / 1000).toFixed(2)} s = ${rate(COUNT, coldInline.ms)}`,
      baseline: `with worker threads: ${rate(COUNT, cold.ms)}`,
    },
    {
      metric: `cold import, API job (${threads(coldAsync.value.workerThreads)})`,
      measured: `${(coldAsync.ms / 1000).toFixed(2)} s = ${rate(COUNT, coldAsync.ms)}`,
      baseline: `CLI path in this process: ${rate(COUNT, cold.ms)}`,
    },
    {
      metric: 'no-change resync, API job (async reads)',
      measured: `${(noneAsync.ms / 1000).toFixed(2)} s`,
      baseline: `CLI path: ${(none.ms / 1000).toFixed(2)} s`,
    },
    {
      metric: 'no-change resync',
      measured: `${(none.ms / 1000).toFixed(2)} s (${none.value.counts.unchanged} unchanged)`,
      baseline: `stat() of every file: ${(statOnly.ms / 1000).toFixed(2)} s`,
      target: '≤ 0.5 s',
    },
    {
      metric: 'resync after 1 % changed',
      measured: `${(onePct.ms / 1000).toFixed(2)} s (${onePct.value.counts.updated} updated)`,
      baseline: `no-change resync: ${(none.ms / 1000).toFixed(2)} s`,
    },
    {
      metric: 'SHA-256 (hashFile, 512 MiB)',
      measured: `${Math.round(mb / (ours.ms / 1000))} MiB/s`,
      baseline: `sha256sum: ${Math.round(mb / (theirs.ms / 1000))} MiB/s`,
      target: '≥ 90 % of sha256sum',
    },
  ]);
  for (const added of [cold.value.counts.added, ...cli.runs.map((r) => r.added), ...flat.runs.map((r) => r.added)]) {
    if (added !== COUNT) process.stdout.write(`\nWARNING: a cold import added ${added} of ${COUNT}\n`);
  }
} finally {
  dir.remove();
}
