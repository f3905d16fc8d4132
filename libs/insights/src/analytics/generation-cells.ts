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
  /** Run times as flat (bin, runs) pairs: bin = the duration in ms rounded to two significant digits. */
  durations: number[];
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

/** Bins are 0..99, then 90 per power of ten (10..99 × 10^e, e = 1..10): a dense number for a histogram slot. */
const SLOTS = 100 + 90 * 10;

function slotOf(bin: number): number {
  if (bin < 100) return bin;
  let e = 0;
  let m = bin;
  while (m >= 100) {
    m /= 10;
    e++;
  }
  return Math.min(SLOTS - 1, 100 + (e - 1) * 90 + Math.round(m) - 10);
}

function binOf(slot: number): number {
  if (slot < 100) return slot;
  const e = Math.floor((slot - 100) / 90) + 1;
  return (((slot - 100) % 90) + 10) * 10 ** e;
}

/**
 * Reads a roll-up's `durations` JSON object (`{"2800":3,"12000":-1}`, or PostgreSQL's `{"2800": 3}`) into flat
 * pairs. A month of hours is thousands of objects of integer-like keys: `JSON.parse` made garbage-collection the
 * largest cost of a series, this scan makes one array per cell.
 */
export function parseBins(text: string): number[] {
  const pairs: number[] = [];
  let i = 0;
  const digits = (): number => {
    let n = 0;
    for (let c = text.charCodeAt(i); c >= 48 && c <= 57; c = text.charCodeAt(++i)) n = n * 10 + c - 48;
    return n;
  };
  while ((i = text.indexOf('"', i)) >= 0) {
    i++;
    const bin = digits();
    i = text.indexOf(':', i) + 1;
    while (text.charCodeAt(i) === 32) i++;
    const negative = text.charCodeAt(i) === 45;
    if (negative) i++;
    const runs = digits();
    pairs.push(bin, negative ? -runs : runs);
  }
  return pairs;
}

/** An empty cell to fold raw job rows into. */
export function emptyCell(hour: string, backend: string): GenerationCell {
  return { hour, backend, jobs: 0, succeeded: 0, failed: 0, cancelled: 0, timed: 0, durationMsSum: 0, durations: [] };
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
  cell.durations.push(durationBin(whole), 1);
}

/**
 * Folds cells into buckets (the hour key's first `keyLength` characters, or one bucket for `null`) per backend, with
 * the mean and the nearest-rank p95 (`ceil(0.95 n)`-th smallest) of the timed runs; ordered by bucket, then backend.
 */
export function foldCells(
  cells: GenerationCell[],
  keyLength: number | null,
): (GenerationCounts & { bucket: string | null })[] {
  const groups = new Map<string, GenerationCell[]>();
  for (const cell of cells) {
    const bucket = keyLength === null ? '' : cell.hour.slice(0, keyLength);
    const id = `${bucket}\u0000${cell.backend}`;
    const group = groups.get(id);
    if (group) group.push(cell);
    else groups.set(id, [cell]);
  }
  // One histogram, reused group after group.
  const histogram = new Float64Array(SLOTS);
  const folded: (GenerationCounts & { bucket: string | null })[] = [];
  for (const [id, members] of groups) {
    const sum = emptyCell(id.slice(0, id.indexOf('\u0000')), members[0].backend);
    for (const cell of members) {
      sum.jobs += cell.jobs;
      sum.succeeded += cell.succeeded;
      sum.failed += cell.failed;
      sum.cancelled += cell.cancelled;
      sum.timed += cell.timed;
      sum.durationMsSum += cell.durationMsSum;
      const pairs = cell.durations;
      for (let i = 0; i < pairs.length; i += 2) histogram[slotOf(pairs[i])] += pairs[i + 1];
    }
    if (sum.jobs > 0) {
      folded.push({
        bucket: keyLength === null ? null : sum.hour,
        backendId: sum.backend === '' ? null : sum.backend,
        count: sum.jobs,
        succeeded: sum.succeeded,
        failed: sum.failed,
        cancelled: sum.cancelled,
        meanMs: sum.timed > 0 ? Math.round((sum.durationMsSum / sum.timed) * 10) / 10 : null,
        p95Ms: nearestRank(histogram, sum.timed, 0.95),
      });
    }
    histogram.fill(0);
  }
  return folded.sort(
    (a, b) => compare(a.bucket ?? '', b.bucket ?? '') || compare(a.backendId ?? '', b.backendId ?? ''),
  );
}

function nearestRank(histogram: Float64Array, n: number, quantile: number): number | null {
  if (n <= 0) return null;
  const rank = Math.ceil(quantile * n - 1e-9);
  let seen = 0;
  let last: number | null = null;
  for (let slot = 0; slot < SLOTS; slot++) {
    if (histogram[slot] <= 0) continue;
    seen += histogram[slot];
    last = binOf(slot);
    if (seen >= rank) return last;
  }
  return last;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
