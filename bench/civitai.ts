// npm run bench:civitai — a bulk Civitai lookup run (by SHA-256, each answer stored on the adapter) against the fake
// Civitai: under the default rate limit (CIVITAI_RATE_PER_SECOND 2, burst 4), with the limiter opened wide (what the
// pipeline itself costs), and beside a baseline of the fake asked directly over HTTP, one by-hash call after another.
import { join } from 'node:path';
import { AppProcess, freePort, runCli } from '../test/support/app-process.js';
import { writeAdapter } from '../test/support/corpus-builder.js';
import { FakeCivitai } from '../test/support/fake-civitai.js';
import { tempDir } from '../test/support/test-services.js';
import { report, time } from './bench-util.js';

const FILES = Number(process.env.BENCH_CIVITAI_FILES ?? 40);
const dir = tempDir('bench-civitai');
const root = join(dir.path, 'loras');
const fake = await new FakeCivitai().start();

interface Run {
  id: string;
  status: string;
  counts: { total: number; found: number; notFound: number };
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

/** A lookup run over every file in a fresh database, with these rate settings: lookups per second. */
async function lookupRun(label: string, rate: Record<string, string>): Promise<{ perSecond: number; run: Run }> {
  const env = {
    DATA_DIR: join(dir.path, `data-${label}`),
    LORA_ROOTS: root,
    LOG_LEVEL: 'warn',
    HASH_AFTER_IMPORT: 'false',
  };
  const imported = await runCli(['import', '--json', '--hash', 'full'], env, 600_000);
  if (imported.code !== 0) throw new Error(`import failed:\n${imported.output}`);
  const port = await freePort();
  const api = new AppProcess(
    'api',
    { ...env, PORT: String(port), CIVITAI_URL: fake.url, CIVITAI_CACHE_HOURS: '0', ...rate },
    port,
  ).start();
  try {
    await api.waitReady();
    const started = (await (
      await fetch(`${api.baseUrl}/api/v1/civitai/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'lookup' }),
      })
    ).json()) as { run: Run };
    let run = started.run;
    while (run.status === 'queued' || run.status === 'running') {
      await new Promise((r) => setTimeout(r, 50));
      run = (await (await fetch(`${api.baseUrl}/api/v1/civitai/runs/${run.id}`)).json()) as Run;
    }
    if (run.status !== 'completed' || run.counts.total !== FILES) throw new Error(`run ended ${JSON.stringify(run)}`);
    const ms = +new Date(run.finishedAt!) - +new Date(run.startedAt!);
    return { perSecond: (run.counts.total / ms) * 1000, run };
  } finally {
    await api.stop();
  }
}

try {
  const hashes: string[] = [];
  for (let i = 0; i < FILES; i++) {
    const written = await writeAdapter(root, { relPath: `f/${i}.safetensors`, safetensors: { seed: `civ${i}` } });
    hashes.push(written.sha256);
  }
  // Half the files are on Civitai (one model, a version each), half are not.
  fake.addModel({
    id: 900,
    name: 'Bench',
    versions: hashes
      .filter((_, i) => i % 2 === 0)
      .map((sha256, i) => ({ id: 90_000 + i, files: [{ name: `${i}.safetensors`, primary: true, sha256 }] })),
  });

  // Baseline: the fake asked directly, no limiter, no storing.
  const direct = await time(async () => {
    for (const h of hashes) await (await fetch(`${fake.url}/api/v1/model-versions/by-hash/${h}`)).arrayBuffer();
  });
  const directPerSecond = (FILES / direct.ms) * 1000;
  const limited = await lookupRun('default', {});
  const open = await lookupRun('open', { CIVITAI_RATE_PER_SECOND: '1000', CIVITAI_RATE_BURST: '1000' });
  const f = (n: number) => `${n.toFixed(n < 10 ? 2 : 0)} lookups/s`;
  report(`Civitai lookup run: ${FILES} files (${limited.run.counts.found} on Civitai) against the fake`, [
    {
      metric: 'lookup run, default rate limit (2/s, burst 4)',
      measured: f(limited.perSecond),
      baseline: `fake called directly ${f(directPerSecond)}`,
      target: '≈ 2/s: the limit, not the pipeline, sets the pace',
    },
    {
      metric: 'lookup run, limiter opened (1000/s): the pipeline itself',
      measured: f(open.perSecond),
      baseline: `fake called directly ${f(directPerSecond)}`,
      target: '≫ 2/s',
    },
  ]);
} finally {
  await fake.stop();
  dir.remove();
}
