// npm run bench:import-growth — import rate as the index grows: BATCHES library roots of BATCH adapters each
// (default 10 × 10,000), imported one after another by the CLI into the same SQLite database. Each batch's rate
// (the import itself, from the CLI's --json durationMs, without process start-up) is printed beside the first
// batch's rate, measured in the same run. One import of each varies by ±15 % on a busy machine, so the target row
// compares medians of REPEATS (default 3) more, interleaved: the last batch into a copy of the index as it was
// before it, and the first batch into an empty database.
import { spawn } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { entryOf } from '../test/support/app-process.js';
import { generateCorpus } from '../test/support/corpus-builder.js';
import { tempDir } from '../test/support/test-services.js';
import { report } from './bench-util.js';

const BATCH = Number(process.env.BENCH_GROWTH_BATCH ?? 10_000);
const BATCHES = Math.max(2, Number(process.env.BENCH_GROWTH_BATCHES ?? 10));
const REPEATS = Math.max(1, Number(process.env.BENCH_GROWTH_REPEATS ?? 3));
const dir = tempDir('import-growth');
const roots = Array.from({ length: BATCHES }, (_, i) => join(dir.path, `root-${String(i).padStart(2, '0')}`));
const env = { ...process.env, DATA_DIR: join(dir.path, 'data'), LORA_ROOTS: roots.join(','), LOG_LEVEL: 'warn' };

function importRoot(root: string, dataDir = env.DATA_DIR): Promise<{ durationMs: number; added: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entryOf('cli'), 'import', '--json', root], {
      env: { ...env, DATA_DIR: dataDir },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{"runId"'));
      if (code !== 0 || !line) return reject(new Error(`import of ${root} exited ${code}:\n${out}`));
      const summary = JSON.parse(line) as { durationMs: number; counts: { added: number } };
      resolve({ durationMs: summary.durationMs, added: summary.counts.added });
    });
  });
}

/** The rate of one import of `root` (its BATCH files all added). */
async function rateOf(root: string, dataDir?: string): Promise<number> {
  const run = await importRoot(root, dataDir);
  if (run.added !== BATCH) throw new Error(`import of ${root} added ${run.added} of ${BATCH}`);
  return (BATCH / run.durationMs) * 1000;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

try {
  const rates: number[] = [];
  const beforeLast = join(dir.path, 'before-last');
  for (const [i, root] of roots.entries()) {
    // Each root is written just before its import (distinct content per batch: no moves, no duplicates).
    await generateCorpus(root, BATCH, { seed: `batch-${i}` });
    // The index as the last batch finds it (the CLI has exited: its log is checkpointed into the file).
    if (i === BATCHES - 1) cpSync(env.DATA_DIR, beforeLast, { recursive: true });
    rates.push(await rateOf(root));
    process.stdout.write(`batch ${i + 1}/${BATCHES}: ${Math.round(rates[i])}/s (load ${loadavg()[0].toFixed(2)})\n`);
  }
  // Repeats, interleaved so that the machine's load hits both alike.
  const first = [rates[0]];
  const last = [rates[BATCHES - 1]];
  for (let r = 0; r < REPEATS; r++) {
    const empty = join(dir.path, `first-${r}`);
    first.push(await rateOf(roots[0], empty));
    rmSync(empty, { recursive: true, force: true });
    const copy = join(dir.path, `last-${r}`);
    cpSync(beforeLast, copy, { recursive: true });
    last.push(await rateOf(roots[BATCHES - 1], copy));
    rmSync(copy, { recursive: true, force: true });
    process.stdout.write(
      `repeat ${r + 1}/${REPEATS}: first ${Math.round(first.at(-1)!)}/s, last ${Math.round(last.at(-1)!)}/s\n`,
    );
  }
  const fmt = (r: number) => `${Math.round(r).toLocaleString('en-US')}/s`;
  report(
    `Import rate into a growing index, ${BATCHES} × ${BATCH.toLocaleString('en-US')} on SQLite (load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')})`,
    [
      ...rates.map((rate, i) => ({
        metric: `batch ${i + 1} (index holds ${(i * BATCH).toLocaleString('en-US')})`,
        measured: `${fmt(rate)} = ${Math.round((rate / rates[0]) * 100)} % of the first`,
        baseline: `first batch: ${fmt(rates[0])}`,
        target: '',
      })),
      {
        metric: `batch ${BATCHES}, median of ${last.length}`,
        measured: `${fmt(median(last))} = ${Math.round((median(last) / median(first)) * 100)} % of the first`,
        baseline: `first batch, median of ${first.length}: ${fmt(median(first))}`,
        target: '≥ 70 % of the first',
      },
    ],
  );
} finally {
  dir.remove();
}
