import type { GenerationCounts } from './analytics.model.js';

/** Generations created in one UTC hour on one backend (`''` for none), as the hourly roll-up keeps them. */
export interface GenerationCell {
  /** `YYYY-MM-DD HH`. */
  hour: string;
  backend: string;
  jobs: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  /** Succeeded runs with a start and a finish. */
  timed: number;
  durationMsSum: number;
  /** Duration rounded to two significant digits (ms) → runs. */
  durations: Record<string, number>;
}

/**
 * A duration's bin, as migration 1764300004800 computes it in SQL: whole ms, then two significant digits. Rounding
 * keeps the order, so the nearest-rank p95 of the bins is the exact p95 rounded the same way.
 */
export function durationBin(ms: number): number {
  const whole = Math.round(Math.max(0, ms));
  if (whole < 100) return whole;
  for (let e = 1; e <= 10; e++) {
    if (whole < 10 ** (e + 2)) return Math.round(whole / 10 ** e) * 10 ** e;
  }
  return whole;
}

/** An empty cell to fold raw job rows into. */
export function emptyCell(hour: string, backend: string): GenerationCell {
  return { hour, backend, jobs: 0, succeeded: 0, failed: 0, cancelled: 0, timed: 0, durationMsSum: 0, durations: {} };
}

/** Adds one job (its status and, when timed, its run time in ms, counted in whole ms) to a cell. */
export function addJob(cell: GenerationCell, status: string, ms: number | null): void {
  cell.jobs++;
  if (status === 'succeeded') cell.succeeded++;
  else if (status === 'failed') cell.failed++;
  else if (status === 'cancelled') cell.cancelled++;
  if (ms === null) return;
  const whole = Math.round(Math.max(0, ms));
  cell.timed++;
  cell.durationMsSum += whole;
  const bin = String(durationBin(whole));
  cell.durations[bin] = (cell.durations[bin] ?? 0) + 1;
}

/**
 * Folds cells into buckets (the hour key's first `keyLength` characters, or one bucket for `null`) per backend, with
 * the mean and the nearest-rank p95 (`ceil(0.95 n)`-th smallest) of the timed runs; ordered by bucket, then backend.
 */
export function foldCells(
  cells: GenerationCell[],
  keyLength: number | null,
): (GenerationCounts & { bucket: string | null })[] {
  const groups = new Map<string, { sum: GenerationCell; bins: Map<number, number> }>();
  for (const cell of cells) {
    const bucket = keyLength === null ? '' : cell.hour.slice(0, keyLength);
    const id = `${bucket}\u0000${cell.backend}`;
    let group = groups.get(id);
    if (!group) groups.set(id, (group = { sum: emptyCell(bucket, cell.backend), bins: new Map() }));
    const { sum, bins } = group;
    sum.jobs += cell.jobs;
    sum.succeeded += cell.succeeded;
    sum.failed += cell.failed;
    sum.cancelled += cell.cancelled;
    sum.timed += cell.timed;
    sum.durationMsSum += cell.durationMsSum;
    // Bins are integer-like keys: a Map, not an object, keeps the merge linear.
    for (const bin in cell.durations) {
      const at = Number(bin);
      bins.set(at, (bins.get(at) ?? 0) + cell.durations[bin]);
    }
  }
  return [...groups.values()]
    .filter((g) => g.sum.jobs > 0)
    .sort((a, b) => compare(a.sum.hour, b.sum.hour) || compare(a.sum.backend, b.sum.backend))
    .map(({ sum: g, bins }) => ({
      bucket: keyLength === null ? null : g.hour,
      backendId: g.backend === '' ? null : g.backend,
      count: g.jobs,
      succeeded: g.succeeded,
      failed: g.failed,
      cancelled: g.cancelled,
      meanMs: g.timed > 0 ? Math.round((g.durationMsSum / g.timed) * 10) / 10 : null,
      p95Ms: nearestRank(bins, g.timed, 0.95),
    }));
}

function nearestRank(bins: Map<number, number>, n: number, quantile: number): number | null {
  if (n <= 0) return null;
  const rank = Math.ceil(quantile * n - 1e-9);
  const sorted = [...bins].filter(([, count]) => count > 0).sort((a, b) => a[0] - b[0]);
  let seen = 0;
  for (const [bin, count] of sorted) {
    seen += count;
    if (seen >= rank) return bin;
  }
  return sorted.length > 0 ? sorted[sorted.length - 1][0] : null;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
