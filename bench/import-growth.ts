// npm run bench:import-growth — import rate as the index grows: BATCHES library roots of BATCH adapters each
// (default 10 × 10,000), imported one after another by the CLI into the same SQLite database. Each batch's rate
// (the import itself, from the CLI's --json durationMs, without process start-up) is printed beside the first
// batch's rate, measured in the same run.
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { entryOf } from '../test/support/app-process.js';
import { generateCorpus } from '../test/support/corpus-builder.js';
import { tempDir } from '../test/support/test-services.js';
import { report } from './bench-util.js';

const BATCH = Number(process.env.BENCH_GROWTH_BATCH ?? 10_000);
const BATCHES = Math.max(2, Number(process.env.BENCH_GROWTH_BATCHES ?? 10));
const dir = tempDir('import-growth');
const roots = Array.from({ length: BATCHES }, (_, i) => join(dir.path, `root-${String(i).padStart(2, '0')}`));
const env = { ...process.env, DATA_DIR: join(dir.path, 'data'), LORA_ROOTS: roots.join(','), LOG_LEVEL: 'warn' };

function importRoot(root: string): Promise<{ durationMs: number; added: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entryOf('cli'), 'import', '--json', root], { env });
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

try {
  const rates: number[] = [];
  for (const [i, root] of roots.entries()) {
    // Each root is written just before its import (distinct content per batch: no moves, no duplicates).
    await generateCorpus(root, BATCH, { seed: `batch-${i}` });
    const run = await importRoot(root);
    if (run.added !== BATCH) throw new Error(`batch ${i + 1} added ${run.added} of ${BATCH}`);
    rates.push((BATCH / run.durationMs) * 1000);
    process.stdout.write(`batch ${i + 1}/${BATCHES}: ${Math.round(rates[i])}/s (load ${loadavg()[0].toFixed(2)})\n`);
  }
  const fmt = (r: number) => `${Math.round(r).toLocaleString('en-US')}/s`;
  report(
    `Import rate into a growing index, ${BATCHES} × ${BATCH.toLocaleString('en-US')} on SQLite (load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')})`,
    rates.map((rate, i) => ({
      metric: `batch ${i + 1} (index holds ${(i * BATCH).toLocaleString('en-US')})`,
      measured: `${fmt(rate)} = ${Math.round((rate / rates[0]) * 100)} % of the first`,
      baseline: `first batch: ${fmt(rates[0])}`,
      target: i === BATCHES - 1 ? '≥ 70 % of the first' : '',
    })),
  );
} finally {
  dir.remove();
}
