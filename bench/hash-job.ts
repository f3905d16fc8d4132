// npm run bench:hash-job — the background hash job on large files next to `sha256sum` and `openssl dgst -sha256`
// over the same files, and the list query's p95 while the job runs next to its p95 idle (same API, same library).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { AppProcess, freePort, runCli } from '../test/support/app-process.js';
import { generateCorpus, writeAdapter } from '../test/support/corpus-builder.js';
import { tempDir } from '../test/support/test-services.js';
import { percentile, report, time } from './bench-util.js';

const BIG_FILES = Number(process.env.BENCH_HASH_FILES ?? 6);
const BIG_MIB = Number(process.env.BENCH_HASH_MIB ?? 192);
const SMALL = 5000;
const dir = tempDir('hash-job');
const root = join(dir.path, 'loras');
const env = { DATA_DIR: join(dir.path, 'data'), LORA_ROOTS: root, LOG_LEVEL: 'warn', HASH_AFTER_IMPORT: 'false' };

interface Run {
  id: string;
  status: string;
  counts: { total: number; hashed: number; bytes: number };
  startedAt: string | null;
  finishedAt: string | null;
}

try {
  await generateCorpus(join(root, 'small'), SMALL);
  const big: string[] = [];
  for (let i = 0; i < BIG_FILES; i++) {
    const relPath = `big/big_${i}.safetensors`;
    await writeAdapter(root, {
      relPath,
      safetensors: { seed: `big${i}`, tensors: [{ name: 'w', dtype: 'F32', shape: [BIG_MIB * 256 * 1024] }] },
    });
    big.push(join(root, relPath));
  }
  // The small files hashed at import (`--hash full`), the large ones left to the hash run: its figure is the large
  // files' read rate, comparable with sha256sum's over the same files.
  for (const args of [['--hash', 'full', join(root, 'small')], [join(root, 'big')]]) {
    const imported = await runCli(['import', '--json', ...args], env, 600_000);
    if (imported.code !== 0) throw new Error(`import failed:\n${imported.output}`);
  }

  // Baselines over the same files, page cache warm for everyone (first a read to warm it).
  execFileSync('cat', big, { maxBuffer: 1, stdio: 'ignore' });
  const bytes = BIG_FILES * BIG_MIB * 1024 * 1024;
  const sha256sum = await time(() => Promise.resolve(execFileSync('sha256sum', big)));
  const openssl = await time(() => Promise.resolve(execFileSync('openssl', ['dgst', '-sha256', ...big])));

  const port = await freePort();
  const api = new AppProcess('api', { ...env, PORT: String(port) }, port).start();
  try {
    await api.waitReady();
    const get = (path: string) => fetch(`${api.baseUrl}${path}`).then((r) => r.json());
    const queries = ['/api/v1/adapters?limit=50', '/api/v1/adapters?q=lora&limit=50', '/api/v1/adapters?sort=size'];
    let n = 0;
    const query = async () => (await time(() => get(queries[n++ % queries.length]))).ms;
    for (let i = 0; i < 30; i++) await query();
    const idle: number[] = [];
    for (let i = 0; i < 300; i++) idle.push(await query());

    const started = (await (await fetch(`${api.baseUrl}/api/v1/hashes/runs`, { method: 'POST' })).json()) as {
      run: Run;
    };
    const busy: number[] = [];
    let run = started.run;
    while (run.status === 'queued' || run.status === 'running') {
      for (let i = 0; i < 10; i++) busy.push(await query());
      run = (await get(`/api/v1/hashes/runs/${run.id}`)) as Run;
    }
    if (run.status !== 'completed') throw new Error(`hash run ended ${run.status}`);
    const runMs = +new Date(run.finishedAt!) - +new Date(run.startedAt!);
    const mibs = (b: number, ms: number) => `${Math.round(b / 1048576 / (ms / 1000))} MiB/s`;
    report(`Background hash job: ${run.counts.hashed} files of ${BIG_MIB} MiB in a library of ${SMALL + BIG_FILES}`, [
      {
        metric: `hash run, ${(run.counts.bytes / 1048576).toFixed(0)} MiB in ${(runMs / 1000).toFixed(1)} s (hash, re-read sidecars, write)`,
        measured: mibs(run.counts.bytes, runMs),
        baseline: `sha256sum ${mibs(bytes, sha256sum.ms)}, openssl ${mibs(bytes, openssl.ms)} (large files only)`,
        target: '≥ 90 % of sha256sum',
      },
      {
        metric: `list/search p95 while hashing (${busy.length} requests)`,
        measured: `${percentile(busy, 95).toFixed(1)} ms (p50 ${percentile(busy, 50).toFixed(1)})`,
        baseline: `idle ${percentile(idle, 95).toFixed(1)} ms (p50 ${percentile(idle, 50).toFixed(1)})`,
        target: '≤ 2 × idle',
      },
    ]);
  } finally {
    await api.stop();
  }
} finally {
  dir.remove();
}
