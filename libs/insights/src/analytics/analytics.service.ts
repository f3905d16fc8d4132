import { Injectable } from '@nestjs/common';
import { InvalidInputError } from '@app/core';
import { AnalyticsRepository, type FailureRow } from './analytics.repository.js';
import { foldCells } from './generation-cells.js';
import {
  ANALYTICS_LIMITS,
  type AdapterUsageStats,
  type DeliveryOutcome,
  type FailureReason,
  FailureSource,
  type GenerationStats,
  type LibrarySummary,
  StatsBucket,
  type StatsRange,
} from './analytics.model.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_DAYS = 7;
const RECENT_IMPORTS = 5;
/** Distinct messages read per table before folding: enough for the top reasons, bounded whatever the errors say. */
const FAILURE_MESSAGES_READ = 500;

/** The range a request names; the last 7 days by default. */
export interface RangeInput {
  from?: Date;
  to?: Date;
}

/** Library summary and generation, adapter, failure and delivery statistics (see docs/insights.md). */
@Injectable()
export class AnalyticsService {
  constructor(private readonly repository: AnalyticsRepository) {}

  summary(): Promise<LibrarySummary> {
    return this.repository.librarySummary(RECENT_IMPORTS);
  }

  /** Generations per hour or day and backend; the bucket is `hour` up to 7 days, `day` beyond, unless given. */
  async generations(input: RangeInput & { bucket?: StatsBucket; backendId?: string }): Promise<GenerationStats> {
    const range = rangeOf(input);
    const bucket =
      input.bucket ??
      (range.to.getTime() - range.from.getTime() <= DEFAULT_DAYS * DAY_MS ? StatsBucket.Hour : StatsBucket.Day);
    if (
      bucket === StatsBucket.Hour &&
      range.to.getTime() - range.from.getTime() > ANALYTICS_LIMITS.maxHourlyDays * DAY_MS
    ) {
      throw InvalidInputError.field(
        'bucket',
        `hour buckets cover at most ${ANALYTICS_LIMITS.maxHourlyDays} days`,
        'range_too_long',
      );
    }
    const cells = await this.repository.generationCells(range, input.backendId);
    const series = foldCells(cells, bucket === StatsBucket.Hour ? 13 : 10);
    const totals = foldCells(cells, null);
    return {
      ...range,
      bucket,
      series: series.map(({ bucket: start, ...counts }) => ({ start: bucketStart(start ?? ''), ...counts })),
      totals: totals.map(({ bucket: _b, ...counts }) => counts),
    };
  }

  async adapters(input: RangeInput & { limit?: number }): Promise<AdapterUsageStats> {
    const range = rangeOf(input);
    const limit = input.limit ?? 10;
    const [adapters, pairs] = await Promise.all([
      this.repository.topAdapters(range, limit),
      this.repository.topPairs(range, limit),
    ]);
    return { ...range, adapters, pairs };
  }

  /** Failed generations and deliveries grouped by cause, most frequent first. */
  async failures(input: RangeInput & { limit?: number }): Promise<{ from: Date; to: Date; reasons: FailureReason[] }> {
    const range = rangeOf(input);
    const [generations, deliveries] = await Promise.all([
      this.repository.failures('generation_jobs', range, FAILURE_MESSAGES_READ),
      this.repository.failures('delivery_jobs', range, FAILURE_MESSAGES_READ),
    ]);
    const reasons = [
      ...foldFailures(FailureSource.Generation, generations),
      ...foldFailures(FailureSource.Delivery, deliveries),
    ].sort((a, b) => b.count - a.count || b.lastAt.getTime() - a.lastAt.getTime());
    return { ...range, reasons: reasons.slice(0, input.limit ?? 20) };
  }

  async deliveries(input: RangeInput): Promise<{ from: Date; to: Date; modes: DeliveryOutcome[] }> {
    const range = rangeOf(input);
    return { ...range, modes: await this.repository.deliveryOutcomes(range) };
  }
}

/** Validates a range: `from` before `to`, at most ~10 years; defaults to the last 7 days up to now. */
export function rangeOf(input: RangeInput): StatsRange {
  const to = input.to ?? new Date();
  const from = input.from ?? new Date(to.getTime() - DEFAULT_DAYS * DAY_MS);
  if (from.getTime() >= to.getTime()) throw InvalidInputError.field('from', 'must be before to', 'invalid_range');
  if (to.getTime() - from.getTime() > ANALYTICS_LIMITS.maxDays * DAY_MS) {
    throw InvalidInputError.field(
      'from',
      `the range covers at most ${ANALYTICS_LIMITS.maxDays} days`,
      'range_too_long',
    );
  }
  return { from, to };
}

/** `YYYY-MM-DD HH` or `YYYY-MM-DD` (UTC) as the bucket's first instant. */
function bucketStart(key: string): Date {
  return new Date(key.length === 10 ? `${key}T00:00:00Z` : `${key.slice(0, 10)}T${key.slice(11, 13)}:00:00Z`);
}

/**
 * One cause per row: numbers, ids, hashes and quoted values vary between failures of one cause, so they are folded
 * to `#` before grouping (`SD.Next … timed out after 900 s` and `… after 901 s` are one reason).
 */
export function failureReason(message: string): string {
  const text = message.trim() === '' ? '(no message)' : message.trim();
  return text
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '#')
    .replace(/\b[0-9a-f]{10,}\b/gi, '#')
    .replace(/\d+(\.\d+)?/g, '#')
    .replace(/\s+/g, ' ')
    .slice(0, 300);
}

function foldFailures(source: FailureSource, rows: FailureRow[]): FailureReason[] {
  const groups = new Map<string, FailureReason>();
  for (const row of rows) {
    const reason = failureReason(row.error);
    const group = groups.get(reason);
    if (!group) {
      groups.set(reason, { source, reason, count: row.count, example: row.error.slice(0, 1000), lastAt: row.lastAt });
      continue;
    }
    group.count += row.count;
    if (row.lastAt > group.lastAt) group.lastAt = row.lastAt;
  }
  return [...groups.values()];
}
