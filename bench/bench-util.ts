import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import ZipStream from 'zip-stream';

/** Nearest-rank percentile; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = process.hrtime.bigint();
  const value = await fn();
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, value };
}

/** Prints a table of measured figures next to their baseline. */
export function report(
  title: string,
  rows: { metric: string; measured: string; baseline: string; target?: string }[],
): void {
  const header = ['metric', 'measured', 'baseline (same run)', 'target'];
  const table = rows.map((r) => [r.metric, r.measured, r.baseline, r.target ?? '']);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  process.stdout.write(`\n## ${title}\n\n${line(header)}\n| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |\n`);
  for (const r of table) process.stdout.write(`${line(r)}\n`);
}

/**
 * A baseline ZIP: zip-stream alone storing the files in order (no database, no metadata), each opened when its turn
 * comes (100,000 eager streams would run out of file descriptors). Resolves when the sink has taken the archive.
 */
export async function plainZip(files: Iterable<[name: string, path: string]>, sink: Writable): Promise<void> {
  const zip = new ZipStream({ store: true });
  const written = pipeline(zip, sink);
  for (const [name, path] of files) {
    await new Promise<void>((resolve, reject) =>
      zip.entry(createReadStream(path), { name, store: true }, (error) => (error ? reject(error) : resolve())),
    );
  }
  zip.finalize();
  await written;
}
