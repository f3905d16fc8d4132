import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { toNumber } from '@app/core';
import { DataSource } from 'typeorm';
import { isPostgres, readNumber, readText, readTime, SqlParams } from '../sql-dialect.js';
import { addJob, emptyCell, type GenerationCell, parseBins } from './generation-cells.js';
import {
  type AdapterPairUsage,
  type AdapterUsage,
  type CountBy,
  type DeliveryOutcome,
  type LibrarySummary,
  type RecentImport,
  type StatsRange,
} from './analytics.model.js';

type Row = Record<string, unknown>;

/** A group of failed rows with one message, before the messages are folded in code. */
export interface FailureRow {
  error: string;
  count: number;
  lastAt: Date;
}

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/**
 * The parts of a range that a roll-up of `unitMs`-wide UTC units answers (`whole`, from the first unit that starts in
 * the range to the last that ends in it) and the partial units at its ends (`edges`), which the raw rows answer.
 */
export function splitRange(range: StatsRange, unitMs: number): { whole: StatsRange | null; edges: StatsRange[] } {
  const from = range.from.getTime();
  const to = range.to.getTime();
  const first = Math.ceil(from / unitMs) * unitMs;
  const last = Math.floor(to / unitMs) * unitMs;
  if (first >= last) return { whole: null, edges: [range] };
  const edges: StatsRange[] = [];
  if (from < first) edges.push({ from: range.from, to: new Date(first) });
  if (last < to) edges.push({ from: new Date(last), to: range.to });
  return { whole: { from: new Date(first), to: new Date(last) }, edges };
}

/** `YYYY-MM-DD HH` or `YYYY-MM-DD` of a UTC instant, the roll-ups' keys. */
const unitKey = (at: Date, length: 13 | 10): string => at.toISOString().replace('T', ' ').slice(0, length);

/** Pairs counted in the range per batch of the threshold algorithm. */
const PAIR_BATCH = 200;

interface PairCount {
  a: string;
  b: string;
  images: number;
}

const pairCount = (r: Row): PairCount => ({ a: String(r.a_id), b: String(r.b_id), images: toNumber(r.images) });
const pairKey = (pair: PairCount): string => `${pair.a}/${pair.b}`;
/** Most images first, then by ids, as the statements order them. */
const byUsage = (x: PairCount, y: PairCount): number =>
  y.images - x.images || (x.a < y.a ? -1 : x.a > y.a ? 1 : x.b < y.b ? -1 : x.b > y.b ? 1 : 0);

/**
 * The analytics statements, one per figure, on both databases. The generation series and the adapter usage read the
 * roll-ups that triggers keep (migration 1764300004800: per hour and backend, per day and adapter or pair) for the
 * whole hours or days of a range, and the raw rows only for the partial ones at its ends; the other statements read
 * an index range of their table (migration 1764300004600).
 */
@Injectable()
export class AnalyticsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private get pg(): boolean {
    return isPostgres(this.dataSource);
  }

  private async rows(sql: string, params: SqlParams): Promise<Row[]> {
    return this.dataSource.query<Row[]>(sql, params.values);
  }

  /** Generations of a range per UTC hour and backend: the roll-up's whole hours plus the partial ones, counted here. */
  async generationCells(range: StatsRange, backendId: string | undefined): Promise<GenerationCell[]> {
    const { whole, edges } = splitRange(range, HOUR_MS);
    const [rolled, raw] = await Promise.all([
      whole ? this.rolledCells(whole, backendId) : [],
      edges.length > 0 ? this.rawCells(edges, backendId) : [],
    ]);
    return [...rolled, ...raw];
  }

  private async rolledCells(range: StatsRange, backendId: string | undefined): Promise<GenerationCell[]> {
    const p = new SqlParams(this.pg);
    const where = [`hour >= ${p.add(unitKey(range.from, 13))}`, `hour < ${p.add(unitKey(range.to, 13))}`];
    if (backendId !== undefined) where.push(`backend_id = ${p.add(backendId)}`);
    const rows = await this.rows(
      `SELECT hour, backend_id, jobs, succeeded, failed, cancelled, timed, duration_ms_sum, ${this.pg ? 'durations::text AS durations' : 'durations'}
       FROM generation_stats_hourly WHERE ${where.join(' AND ')}`,
      p,
    );
    return rows.map((r) => ({
      hour: String(r.hour),
      backend: String(r.backend_id),
      jobs: toNumber(r.jobs),
      succeeded: toNumber(r.succeeded),
      failed: toNumber(r.failed),
      cancelled: toNumber(r.cancelled),
      timed: toNumber(r.timed),
      durationMsSum: Number(r.duration_ms_sum),
      durations: parseBins(String(r.durations)),
    }));
  }

  private async rawCells(edges: StatsRange[], backendId: string | undefined): Promise<GenerationCell[]> {
    const p = new SqlParams(this.pg);
    const ms = this.pg
      ? 'EXTRACT(EPOCH FROM (finished_at - started_at)) * 1000'
      : '(julianday(finished_at) - julianday(started_at)) * 86400000.0';
    const ranges = edges.map((e) => `(created_at >= ${p.time(e.from)} AND created_at < ${p.time(e.to)})`);
    const where = [`(${ranges.join(' OR ')})`];
    if (backendId !== undefined) where.push(`backend_id = ${p.add(backendId)}`);
    const rows = await this.rows(
      `SELECT created_at, COALESCE(backend_id, '') AS backend, status,
         CASE WHEN status = 'succeeded' AND started_at IS NOT NULL AND finished_at IS NOT NULL THEN ${ms} END AS ms
       FROM generation_jobs WHERE ${where.join(' AND ')}`,
      p,
    );
    const cells = new Map<string, GenerationCell>();
    for (const r of rows) {
      const hour = unitKey(readTime(r.created_at), 13);
      const backend = String(r.backend);
      const id = `${hour}\u0000${backend}`;
      let cell = cells.get(id);
      if (!cell) cells.set(id, (cell = emptyCell(hour, backend)));
      addJob(cell, String(r.status), readNumber(r.ms));
    }
    return [...cells.values()];
  }

  /**
   * SQLite's planner starts from the links (every link, then a probe per result) unless told: `CROSS JOIN` fixes the
   * order to the results' time range first, 2-3× faster at 100,000 results (bench:analytics).
   */
  private get join(): string {
    return this.pg ? 'JOIN' : 'CROSS JOIN';
  }

  /** The results' rows of a range's partial days, for the statements that add them to a daily roll-up. */
  private edgeResults(edges: StatsRange[], p: SqlParams): string {
    if (edges.length === 0) return 'FALSE';
    return edges.map((e) => `(r.created_at >= ${p.time(e.from)} AND r.created_at < ${p.time(e.to)})`).join(' OR ');
  }

  private wholeDays(whole: StatsRange | null, p: SqlParams): string {
    if (!whole) return 'FALSE';
    return `day >= ${p.add(unitKey(whole.from, 10))} AND day < ${p.add(unitKey(whole.to, 10))}`;
  }

  /** Library adapters by images generated with them, from the daily roll-up and the links of partial days. */
  async topAdapters(range: StatsRange, limit: number): Promise<AdapterUsage[]> {
    const p = new SqlParams(this.pg);
    const { whole, edges } = splitRange(range, DAY_MS);
    const sql = `SELECT u.adapter_id, u.images, a.name, a.base_model FROM (
        SELECT adapter_id, SUM(images) AS images FROM (
          SELECT adapter_id, images FROM adapter_usage_daily WHERE ${this.wholeDays(whole, p)}
          UNION ALL
          SELECT ra.adapter_id, 1 FROM generation_results r ${this.join} generation_result_adapters ra ON ra.result_id = r.id
          WHERE ${this.edgeResults(edges, p)}
        ) d GROUP BY adapter_id HAVING SUM(images) > 0 ORDER BY images DESC, adapter_id LIMIT ${p.add(limit)}
      ) u LEFT JOIN adapters a ON a.id = u.adapter_id ORDER BY u.images DESC, u.adapter_id`;
    return (await this.rows(sql, p)).map((r) => ({
      adapterId: String(r.adapter_id),
      name: readText(r.name),
      baseModel: readText(r.base_model),
      images: toNumber(r.images),
    }));
  }

  /**
   * Pairs of library adapters used in the same image. A range over most of the stored days reads pairs by their
   * all-time totals (`pairsByTotals`); a shorter one groups the daily roll-up's rows of its days.
   */
  async topPairs(range: StatsRange, limit: number): Promise<AdapterPairUsage[]> {
    const { whole, edges } = splitRange(range, DAY_MS);
    const top =
      whole && (await this.mostPairDays(whole))
        ? await this.pairsByTotals(whole, edges, limit)
        : await this.pairsByDays(whole, edges, limit);
    const names = await this.adapterNames(top.flatMap((t) => [t.a, t.b]));
    return top.map((t) => ({
      adapters: [
        { adapterId: t.a, name: names.get(t.a) ?? null },
        { adapterId: t.b, name: names.get(t.b) ?? null },
      ],
      images: t.images,
    }));
  }

  private async pairsByDays(whole: StatsRange | null, edges: StatsRange[], limit: number): Promise<PairCount[]> {
    const p = new SqlParams(this.pg);
    const sql = `SELECT a_id, b_id, SUM(images) AS images FROM (
        SELECT a_id, b_id, images FROM adapter_pair_usage_daily WHERE ${this.wholeDays(whole, p)}
        UNION ALL
        ${this.edgePairsSql(edges, p)}
      ) d GROUP BY a_id, b_id HAVING SUM(images) > 0 ORDER BY images DESC, a_id, b_id LIMIT ${p.add(limit)}`;
    return (await this.rows(sql, p)).map(pairCount);
  }

  /** Every pair's image of the results in the partial days, one row each. */
  private edgePairsSql(edges: StatsRange[], p: SqlParams): string {
    return `SELECT x.adapter_id AS a_id, y.adapter_id AS b_id, 1 AS images FROM generation_results r
      ${this.join} generation_result_adapters x ON x.result_id = r.id
      ${this.join} generation_result_adapters y ON y.result_id = r.id AND x.adapter_id < y.adapter_id
      WHERE ${this.edgeResults(edges, p)}`;
  }

  /**
   * The threshold algorithm: a pair's all-time total bounds its count in the range, so pairs are read in descending
   * total, a batch at a time, and counted in the range (whole days from the roll-up, partial ones from the links),
   * until the next total is below the `limit`-th count found; no later pair can reach the top then.
   */
  private async pairsByTotals(whole: StatsRange, edges: StatsRange[], limit: number): Promise<PairCount[]> {
    const edgeCounts = new Map<string, number>();
    if (edges.length > 0) {
      const p = new SqlParams(this.pg);
      const rows = await this.rows(
        `SELECT a_id, b_id, SUM(images) AS images FROM (${this.edgePairsSql(edges, p)}) e GROUP BY a_id, b_id`,
        p,
      );
      for (const r of rows.map(pairCount)) edgeCounts.set(pairKey(r), r.images);
    }
    const found: PairCount[] = [];
    let after: PairCount | null = null;
    for (;;) {
      const p = new SqlParams(this.pg);
      const next: string = after
        ? `AND (images < ${p.add(after.images)} OR (images = ${p.add(after.images)} AND (a_id > ${p.add(after.a)}
             OR (a_id = ${p.add(after.a)} AND b_id > ${p.add(after.b)}))))`
        : '';
      const batch: PairCount[] = (
        await this.rows(
          `SELECT a_id, b_id, images FROM adapter_pair_usage_total WHERE images > 0 ${next}
           ORDER BY images DESC, a_id, b_id LIMIT ${p.add(PAIR_BATCH)}`,
          p,
        )
      ).map(pairCount);
      if (batch.length === 0) break;
      const inDays = await this.pairCountsInDays(whole, batch);
      for (const pair of batch) {
        const key = pairKey(pair);
        const images = (inDays.get(key) ?? 0) + (edgeCounts.get(key) ?? 0);
        if (images > 0) found.push({ ...pair, images });
      }
      found.sort(byUsage).splice(limit);
      const last = batch[batch.length - 1];
      if (batch.length < PAIR_BATCH || (found.length === limit && last.images < found[limit - 1].images)) break;
      after = last;
    }
    return found;
  }

  /** These pairs' images in the whole days, from the pair-ordered index of the daily roll-up. */
  private async pairCountsInDays(whole: StatsRange, pairs: PairCount[]): Promise<Map<string, number>> {
    const p = new SqlParams(this.pg);
    const id = (value: string) => (this.pg ? `${p.add(value)}::uuid` : p.add(value));
    const values = pairs.map((pair) => `(${id(pair.a)}, ${id(pair.b)})`).join(', ');
    const rows = await this.rows(
      `WITH wanted (a, b) AS (VALUES ${values})
       SELECT d.a_id, d.b_id, SUM(d.images) AS images FROM wanted w
       ${this.join} adapter_pair_usage_daily d ON d.a_id = w.a AND d.b_id = w.b
       WHERE d.day >= ${p.add(unitKey(whole.from, 10))} AND d.day < ${p.add(unitKey(whole.to, 10))}
       GROUP BY d.a_id, d.b_id`,
      p,
    );
    return new Map(rows.map(pairCount).map((r) => [pairKey(r), r.images]));
  }

  private async adapterNames(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const p = new SqlParams(this.pg);
    const rows = await this.rows(
      `SELECT id, name FROM adapters WHERE id IN (${[...new Set(ids)].map((id) => p.add(id)).join(', ')})`,
      p,
    );
    return new Map(rows.map((r) => [String(r.id), String(r.name)]));
  }

  /**
   * Whether the whole days cover at least half of the days the pair roll-up holds. Pairs barely repeat from day to
   * day, so grouping a long day range sorts nearly every pair; over most of the history the totals find the top
   * pairs after a few batches (bench:analytics), while a short range reads few rows of its own days.
   */
  private async mostPairDays(whole: StatsRange): Promise<boolean> {
    const [span] = await this.dataSource.query<Row[]>(
      'SELECT MIN(day) AS first, MAX(day) AS last FROM adapter_pair_usage_daily',
    );
    const [first, last] = [readText(span.first), readText(span.last)];
    if (first === null || last === null) return false;
    const stored = Date.parse(`${last}T00:00:00Z`) - Date.parse(`${first}T00:00:00Z`) + DAY_MS;
    return (whole.to.getTime() - whole.from.getTime()) * 2 >= stored;
  }

  /** Failed rows of a job table grouped by their message (the most frequent `cap` messages). */
  async failures(table: 'generation_jobs' | 'delivery_jobs', range: StatsRange, cap: number): Promise<FailureRow[]> {
    const p = new SqlParams(this.pg);
    const sql = `SELECT COALESCE(error, '') AS error, COUNT(*) AS count, MAX(created_at) AS last_at FROM ${table}
      WHERE status = 'failed' AND created_at >= ${p.time(range.from)} AND created_at < ${p.time(range.to)}
      GROUP BY COALESCE(error, '') ORDER BY count DESC LIMIT ${p.add(cap)}`;
    return (await this.rows(sql, p)).map((r) => ({
      error: String(r.error),
      count: toNumber(r.count),
      lastAt: readTime(r.last_at),
    }));
  }

  async deliveryOutcomes(range: StatsRange): Promise<DeliveryOutcome[]> {
    const p = new SqlParams(this.pg);
    const sql = `SELECT mode, COUNT(*) AS total,
        SUM(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END) AS succeeded,
        SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed,
        SUM(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled
      FROM delivery_jobs WHERE created_at >= ${p.time(range.from)} AND created_at < ${p.time(range.to)}
      GROUP BY mode ORDER BY mode`;
    return (await this.rows(sql, p)).map((r) => {
      const [total, succeeded, failed, cancelled] = [r.total, r.succeeded, r.failed, r.cancelled].map(toNumber);
      return {
        mode: String(r.mode),
        total,
        succeeded,
        failed,
        cancelled,
        pending: total - succeeded - failed - cancelled,
      };
    });
  }

  /** The library's totals in one pass over the adapters, and its three breakdowns from their indexes. */
  async librarySummary(recentImports: number): Promise<LibrarySummary> {
    const yes = (condition: string) => `SUM(CASE WHEN ${condition} THEN 1 ELSE 0 END)`;
    const present = 'missing_since IS NULL';
    const [totals] = await this.dataSource.query<Row[]>(
      `SELECT ${yes(present)} AS files,
         COALESCE(SUM(CASE WHEN ${present} THEN file_size ELSE 0 END), 0) AS bytes,
         ${yes(`${present} AND sha256_verified`)} AS hashed,
         ${yes(`${present} AND (civitai_model_id IS NOT NULL OR civitai_version_id IS NOT NULL)`)} AS linked,
         ${yes(`${present} AND has_preview`)} AS previews,
         ${yes(`${present} AND has_warnings`)} AS warnings,
         ${yes('missing_since IS NOT NULL')} AS tombstoned
       FROM adapters`,
    );
    const files = toNumber(totals.files);
    const percent = (n: unknown) => (files === 0 ? 0 : Math.round((toNumber(n) / files) * 1000) / 10);
    const grouped = async (column: string): Promise<CountBy<string>[]> =>
      (
        await this.dataSource.query<Row[]>(
          `SELECT ${column} AS k, COUNT(*) AS n FROM adapters WHERE ${present} GROUP BY ${column} ORDER BY n DESC, k`,
        )
      ).map((r) => ({ key: String(r.k), count: toNumber(r.n) }));
    const [byBaseModel, byType, byNsfw, imports] = await Promise.all([
      grouped('base_model'),
      grouped('model_type'),
      grouped('nsfw_max'),
      this.recentImports(recentImports),
    ]);
    return {
      totals: {
        files,
        bytesOnDisk: toNumber(totals.bytes),
        hashedPercent: percent(totals.hashed),
        civitaiLinkedPercent: percent(totals.linked),
        withPreviews: toNumber(totals.previews),
        withWarnings: toNumber(totals.warnings),
        tombstoned: toNumber(totals.tombstoned),
      },
      byBaseModel,
      byType,
      byNsfwLevel: byNsfw.map((g) => ({ key: Number(g.key), count: g.count })).sort((a, b) => a.key - b.key),
      recentImports: imports,
    };
  }

  private async recentImports(limit: number): Promise<RecentImport[]> {
    const p = new SqlParams(this.pg);
    const rows = await this.rows(
      `SELECT id, status, counts, created_at, finished_at FROM import_runs
       ORDER BY created_at DESC, id DESC LIMIT ${p.add(limit)}`,
      p,
    );
    return rows.map((r) => {
      const counts = (typeof r.counts === 'string' ? JSON.parse(r.counts) : r.counts) as Record<string, unknown>;
      return {
        id: String(r.id),
        status: String(r.status),
        createdAt: readTime(r.created_at),
        finishedAt: r.finished_at === null ? null : readTime(r.finished_at),
        added: toNumber(counts.added),
        updated: toNumber(counts.updated),
        missing: toNumber(counts.missing),
        failed: toNumber(counts.failed),
      };
    });
  }
}
