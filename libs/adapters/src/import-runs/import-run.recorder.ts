import type { ImportCounts } from '@app/core';
import { ImportRunStatus } from './import-run.entity.js';
import type { ImportRunRepository } from './import-run.repository.js';
import type { ImportReport } from './import-report.js';

/** How often, at most, a running run's counts are saved. */
const SAVE_EVERY_MS = 250;

/**
 * One import run's row while the import runs, for `GET /imports/:id`: its counts are saved as they grow (the first
 * that counts anything at once, then at most every 250 ms, one save at a time), and its end is written after the
 * last save, so a late save never overwrites the final counts. Both ways to run an import (the queued job, the
 * CLI) record through it. Saves are best-effort: a failed one never fails the import.
 */
export class ImportRunRecorder {
  private last = 0;
  private stopped = false;
  private saving: Promise<void> = Promise.resolve();
  private latest: ImportCounts;

  constructor(
    private readonly runs: ImportRunRepository,
    private readonly runId: string,
    counts: ImportCounts,
  ) {
    this.latest = counts;
  }

  /** The import's progress hook. */
  progress(counts: ImportCounts): void {
    // Reads still in flight when an import fails report progress after it: a stopped recorder drops them.
    if (this.stopped) return;
    this.latest = { ...counts };
    // A new run's row says zero already.
    if (Date.now() - this.last < SAVE_EVERY_MS || Object.values(counts).every((n) => n === 0)) return;
    this.last = Date.now();
    const snapshot = this.latest;
    this.saving = this.saving.then(() => this.runs.saveProgress(this.runId, snapshot)).catch(() => undefined);
  }

  /** No more saves; resolves once the last one is written. */
  stop(): Promise<void> {
    this.stopped = true;
    return this.saving;
  }

  async completed(report: ImportReport): Promise<void> {
    await this.stop();
    await this.runs.finish(this.runId, {
      status: ImportRunStatus.Completed,
      counts: report.counts,
      failures: report.failures,
      failureCount: report.failureCount,
    });
  }

  /** Marks the run failed with its last counts, and answers them. */
  async failed(reason: string): Promise<ImportCounts> {
    await this.stop();
    await this.runs.finish(this.runId, {
      status: ImportRunStatus.Failed,
      counts: this.latest,
      failures: [],
      failureCount: 0,
      error: reason,
    });
    return this.latest;
  }
}
