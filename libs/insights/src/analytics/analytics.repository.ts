import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { toNumber } from '@app/core';
import { DataSource } from 'typeorm';
import { isPostgres, readNumber, readText, readTime, SqlParams } from '../sql-dialect.js';
import {
  type AdapterPairUsage,
  type AdapterUsage,
  type CountBy,
  type DeliveryOutcome,
  type GenerationCounts,
  type LibrarySummary,
  type RecentImport,
  StatsBucket,
  type StatsRange,
} from './analytics.model.js';

type Row = Record<string, unknown>;

/** A group of failed rows with one message, before the messages are folded in code. */
export interface FailureRow {
  error: string;
  count: number;
  lastAt: Date;
}

const GENERATION_COUNT_COLUMNS = `COUNT(*) AS count,
  SUM(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END) AS succeeded,
  SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed,
  SUM(CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled,
  AVG(ms) AS mean_ms`;

/**
 * The analytics statements, one per figure, on both databases. Each reads an index range of its table
 * (migration 4600): the generation series reads `idx_generation_jobs_stats` alone, which holds every column it needs.
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

  /**
   * Generations per bucket (or per backend over the range, `bucket` null) with the mean and the nearest-rank p95 of
   * the succeeded runs' durations. PostgreSQL has `percentile_disc`; SQLite ranks each group's durations.
   */
  async generationCounts(
    range: StatsRange,
    bucket: StatsBucket | null,
    backendId: string | undefined,
  ): Promise<(GenerationCounts & { bucket: string | null })[]> {
    const p = new SqlParams(this.pg);
    const bucketExpr = this.bucketExpression(bucket);
    const ms = this.pg
      ? 'EXTRACT(EPOCH FROM (finished_at - started_at)) * 1000'
      : '(julianday(finished_at) - julianday(started_at)) * 86400000.0';
    const where = [`created_at >= ${p.time(range.from)}`, `created_at < ${p.time(range.to)}`];
    if (backendId !== undefined) where.push(`backend_id = ${p.add(backendId)}`);
    const jobs = `SELECT ${bucketExpr} AS bucket, COALESCE(backend_id, '') AS backend,  status,
        CASE WHEN status = 'succeeded' AND started_at IS NOT NULL AND finished_at IS NOT NULL THEN ${ms} END AS ms
      FROM generation_jobs WHERE ${where.join(' AND ')}`;
    const sql = this.pg
      ? `SELECT bucket, backend, ${GENERATION_COUNT_COLUMNS},
           percentile_disc(0.95) WITHIN GROUP (ORDER BY ms) AS p95_ms
         FROM (${jobs}) j GROUP BY bucket, backend ORDER BY bucket, backend`
      : `WITH j AS MATERIALIZED (${jobs}),
         agg AS (SELECT bucket, backend, ${GENERATION_COUNT_COLUMNS}, COUNT(ms) AS timed
                 FROM j GROUP BY bucket, backend),
         ranked AS (SELECT bucket, backend, ms,
                      ROW_NUMBER() OVER (PARTITION BY bucket, backend ORDER BY ms) AS rn
                    FROM j WHERE ms IS NOT NULL)
         SELECT agg.*, ranked.ms AS p95_ms FROM agg
         LEFT JOIN ranked ON ranked.bucket IS agg.bucket AND ranked.backend = agg.backend
           AND ranked.rn = (95 * agg.timed + 99) / 100
         ORDER BY agg.bucket, agg.backend`;
    return (await this.rows(sql, p)).map((r) => ({
      bucket: readText(r.bucket),
      backendId: r.backend === '' ? null : String(r.backend),
      count: toNumber(r.count),
      succeeded: toNumber(r.succeeded),
      failed: toNumber(r.failed),
      cancelled: toNumber(r.cancelled),
      meanMs: roundMs(readNumber(r.mean_ms)),
      p95Ms: roundMs(readNumber(r.p95_ms)),
    }));
  }

  /** `YYYY-MM-DD HH` or `YYYY-MM-DD` in UTC, or one group for the whole range. */
  private bucketExpression(bucket: StatsBucket | null): string {
    if (bucket === null) return 'NULL';
    if (this.pg) {
      return `to_char(created_at AT TIME ZONE 'UTC', '${bucket === StatsBucket.Hour ? 'YYYY-MM-DD HH24' : 'YYYY-MM-DD'}')`;
    }
    return `substr(created_at, 1, ${bucket === StatsBucket.Hour ? 13 : 10})`;
  }

  /**
   * SQLite's planner starts from the links (every link, then a probe per result) unless told: `CROSS JOIN` fixes the
   * order to the results' time range first, 2-3× faster at 100,000 results (bench:analytics).
   */
  private get join(): string {
    return this.pg ? 'JOIN' : 'CROSS JOIN';
  }

  /** Library adapters by images generated with them, from the results' adapter links. */
  async topAdapters(range: StatsRange, limit: number): Promise<AdapterUsage[]> {
    const p = new SqlParams(this.pg);
    const sql = `SELECT u.adapter_id, u.images, a.name, a.base_model FROM (
        SELECT ra.adapter_id, COUNT(*) AS images
        FROM generation_results r ${this.join} generation_result_adapters ra ON ra.result_id = r.id
        WHERE r.created_at >= ${p.time(range.from)} AND r.created_at < ${p.time(range.to)}
        GROUP BY ra.adapter_id ORDER BY images DESC, ra.adapter_id LIMIT ${p.add(limit)}
      ) u LEFT JOIN adapters a ON a.id = u.adapter_id ORDER BY u.images DESC, u.adapter_id`;
    return (await this.rows(sql, p)).map((r) => ({
      adapterId: String(r.adapter_id),
      name: readText(r.name),
      baseModel: readText(r.base_model),
      images: toNumber(r.images),
    }));
  }

  /** Pairs of library adapters used in the same image. */
  async topPairs(range: StatsRange, limit: number): Promise<AdapterPairUsage[]> {
    const p = new SqlParams(this.pg);
    const sql = `SELECT u.a_id, u.b_id, u.images, a.name AS a_name, b.name AS b_name FROM (
        SELECT x.adapter_id AS a_id, y.adapter_id AS b_id, COUNT(*) AS images
        FROM generation_results r
        ${this.join} generation_result_adapters x ON x.result_id = r.id
        ${this.join} generation_result_adapters y ON y.result_id = r.id AND x.adapter_id < y.adapter_id
        WHERE r.created_at >= ${p.time(range.from)} AND r.created_at < ${p.time(range.to)}
        GROUP BY x.adapter_id, y.adapter_id ORDER BY images DESC, a_id, b_id LIMIT ${p.add(limit)}
      ) u LEFT JOIN adapters a ON a.id = u.a_id LEFT JOIN adapters b ON b.id = u.b_id
      ORDER BY u.images DESC, u.a_id, u.b_id`;
    return (await this.rows(sql, p)).map((r) => ({
      adapters: [
        { adapterId: String(r.a_id), name: readText(r.a_name) },
        { adapterId: String(r.b_id), name: readText(r.b_name) },
      ],
      images: toNumber(r.images),
    }));
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

const roundMs = (ms: number | null): number | null => (ms === null ? null : Math.round(ms * 10) / 10);
