import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  APP_CONFIG,
  type AppConfig,
  ConflictError,
  errorMessage,
  JOBS_OPTIONS,
  type JobsOptions,
  ProcessLeaseName,
  ProcessLeaseService,
} from '@app/core';
import type { DataSource } from 'typeorm';
import { GenerationResultEntity } from '../generation-result.entity.js';
import { ResultsService } from '../results.service.js';

export interface RetentionPolicy {
  maxAgeDays: number | null;
  maxTotalMb: number | null;
  keepRating: number;
  intervalHours: number | null;
}

export interface RetentionTotals {
  count: number;
  bytes: number;
}

/** What a retention run removed, or (dry run) would remove. */
export interface RetentionReport {
  dryRun: boolean;
  /** False when neither an age nor a size limit is set: nothing is ever removed. */
  active: boolean;
  policy: RetentionPolicy;
  /** Results removed (or that would be), their bytes, and the oldest and newest of them. */
  removed: RetentionTotals & { oldest: string | null; newest: string | null };
  /** Every result before and after. */
  before: RetentionTotals;
  after: RetentionTotals;
  /** Up to 20 of the removed ids, oldest first. */
  sample: string[];
  startedAt: string;
  finishedAt: string;
}

const PAGE = 500;
const SAMPLE = 20;

type Candidate = Pick<GenerationResultEntity, 'id' | 'bytes' | 'createdAt'>;

/**
 * The results retention policy (RESULTS_MAX_AGE_DAYS, RESULTS_MAX_TOTAL_MB, RESULTS_KEEP_RATING): walks the results
 * that may go (not favorite, rated below the keep rating) oldest first, a page at a time, and removes those past the
 * age limit, then the oldest until every result fits in the size limit. A dry run walks the same way and removes
 * nothing. Deletions go through {@link ResultsService.deleteMany}: files removed, `result.deleted` emitted.
 *
 * Scheduled every RESULTS_RETENTION_HOURS in API processes; in scale-out the `results-retention` lease, taken once per
 * period, lets only one of them run it.
 */
@Injectable()
export class ResultRetentionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ResultRetentionService.name);
  private readonly settings: AppConfig['resultsRetention'];
  private running: Promise<RetentionReport> | null = null;
  private timer?: NodeJS.Timeout;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly results: ResultsService,
    private readonly leases: ProcessLeaseService,
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(JOBS_OPTIONS) private readonly jobs: JobsOptions,
  ) {
    this.settings = config.resultsRetention;
  }

  get policy(): RetentionPolicy {
    const s = this.settings;
    return {
      maxAgeDays: s.maxAgeMs === null ? null : s.maxAgeMs / 86_400_000,
      maxTotalMb: s.maxTotalBytes === null ? null : s.maxTotalBytes / (1024 * 1024),
      keepRating: s.keepRating,
      intervalHours: s.intervalMs === null ? null : s.intervalMs / 3_600_000,
    };
  }

  private get active(): boolean {
    return this.settings.maxAgeMs !== null || this.settings.maxTotalBytes !== null;
  }

  onApplicationBootstrap(): void {
    const every = this.settings.intervalMs;
    // API processes only (the CLI and the workers never schedule), and only with a limit to apply.
    if (every === null || !this.active || !(this.jobs.runJobs || this.jobs.forwardEvents)) return;
    const tick = () => void this.scheduled(every);
    this.timer = setInterval(tick, Math.min(every, 2 ** 31 - 1));
    this.timer.unref();
    setTimeout(tick, Math.min(every, 5_000)).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** One period's run, by whichever process claims the period's lease first. */
  private async scheduled(every: number): Promise<void> {
    try {
      if (this.running || !(await this.leases.claimOnce(ProcessLeaseName.ResultsRetention, Math.round(every * 0.9)))) {
        return;
      }
      const report = await this.run(false);
      this.logger.log(
        `Retention removed ${report.removed.count} result(s), ${report.removed.bytes} bytes; ${report.after.count} left`,
      );
    } catch (error) {
      this.logger.warn(`Scheduled retention failed: ${errorMessage(error)}`);
    }
  }

  /** Applies the policy (or, `dryRun`, reports what it would remove); one run at a time per process. */
  async run(dryRun: boolean): Promise<RetentionReport> {
    if (!dryRun && this.running) throw new ConflictError('retention_running', 'A retention run is already under way');
    const work = this.walk(dryRun);
    if (dryRun) return work;
    this.running = work;
    try {
      return await work;
    } finally {
      this.running = null;
    }
  }

  private async walk(dryRun: boolean): Promise<RetentionReport> {
    const startedAt = new Date();
    const before = await this.totals();
    const removed = { count: 0, bytes: 0, oldest: null as string | null, newest: null as string | null };
    const sample: string[] = [];
    const { maxAgeMs, maxTotalBytes } = this.settings;
    const cutoff = maxAgeMs === null ? null : new Date(startedAt.getTime() - maxAgeMs);
    let remaining = before.bytes;
    let after: Candidate | null = null;
    let done = !this.active;
    while (!done) {
      const page = await this.candidates(after);
      const doomed: Candidate[] = [];
      for (const row of page) {
        const tooOld = cutoff !== null && row.createdAt < cutoff;
        const tooBig = maxTotalBytes !== null && remaining > maxTotalBytes;
        if (!tooOld && !tooBig) {
          done = true;
          break;
        }
        doomed.push(row);
        remaining -= row.bytes;
      }
      if (page.length < PAGE) done = true;
      after = page.at(-1) ?? null;
      if (doomed.length === 0) continue;
      const gone = dryRun ? doomed : await this.remove(doomed);
      for (const row of gone) {
        removed.count++;
        removed.bytes += row.bytes;
        removed.oldest ??= row.createdAt.toISOString();
        removed.newest = row.createdAt.toISOString();
        if (sample.length < SAMPLE) sample.push(row.id);
      }
    }
    return {
      dryRun,
      active: this.active,
      policy: this.policy,
      removed,
      before,
      after: dryRun
        ? { count: before.count - removed.count, bytes: before.bytes - removed.bytes }
        : await this.totals(),
      sample,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
    };
  }

  /** Deletes the rows (a user may have deleted some meanwhile); the ones this run removed. */
  private async remove(rows: Candidate[]): Promise<Candidate[]> {
    const { done } = await this.results.deleteMany(rows.map((r) => r.id));
    const gone = new Set(done);
    return rows.filter((r) => gone.has(r.id));
  }

  private get pg(): boolean {
    return this.dataSource.options.type === 'postgres';
  }

  /** The next page of results the policy may remove, oldest first, after `after` (keyset on created_at, id). */
  private async candidates(after: Candidate | null): Promise<Candidate[]> {
    const qb = this.dataSource
      .getRepository(GenerationResultEntity)
      .createQueryBuilder('r')
      .select(['r.id', 'r.bytes', 'r.createdAt'])
      .where('r.favorite = :no', { no: false })
      .andWhere('r.rating < :keep', { keep: this.settings.keepRating });
    if (after) {
      const at = this.pg ? after.createdAt : after.createdAt.toISOString().replace('T', ' ').replace('Z', '');
      qb.andWhere('(r.created_at > :at OR (r.created_at = :at AND r.id > :id))', { at, id: after.id });
    }
    return qb.orderBy('r.created_at', 'ASC').addOrderBy('r.id', 'ASC').limit(PAGE).getMany();
  }

  private async totals(): Promise<RetentionTotals> {
    const row = await this.dataSource
      .getRepository(GenerationResultEntity)
      .createQueryBuilder('r')
      .select('COUNT(*)', 'count')
      .addSelect('COALESCE(SUM(r.bytes), 0)', 'bytes')
      .getRawOne<{ count: string | number; bytes: string | number }>();
    return { count: Number(row?.count ?? 0), bytes: Number(row?.bytes ?? 0) };
  }
}
