import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import {
  APP_CONFIG,
  type AppConfig,
  CancelOutcome,
  type CivitaiRunCounts,
  DomainError,
  EventBus,
  JobName,
  JobQueue,
  NotFoundError,
  type ProgressEventMap,
  errorMessage,
} from '@app/core';
import { AdapterRepository } from '../library/adapter.repository.js';
import { AdapterQueryService } from '../library/adapter-query.service.js';
import { MAX_PAGE_LIMIT } from '../library/adapter-query.model.js';
import { CivitaiError } from './civitai.port.js';
import { CivitaiLookupService } from './civitai-lookup.service.js';
import {
  type CivitaiRunEntity,
  type CivitaiRunFailure,
  CivitaiRunKind,
  type CivitaiRunScope,
  CivitaiRunStatus,
  CivitaiRunTrigger,
  emptyCivitaiCounts,
} from './civitai-runs.entity.js';
import { CivitaiRunRepository } from './civitai-runs.repository.js';
import { CivitaiUpdateService } from './civitai-updates.js';

export interface CivitaiRunHooks {
  signal: AbortSignal;
  emit?: <E extends 'civitai.progress' | 'civitai.completed'>(event: E, payload: ProgressEventMap[E]) => Promise<void>;
  onProgress?: (counts: CivitaiRunCounts) => void;
}

/** Failures listed on a run. */
const MAX_LISTED = 200;
/** Adapters a filter may select for one run. */
const MAX_FILTERED = 10_000;
const SAVE_EVERY_MS = 1000;
const FOLLOW_EVERY_MS = 500;

const isActive = (run: CivitaiRunEntity) =>
  run.status === CivitaiRunStatus.Queued || run.status === CivitaiRunStatus.Running;

/** Why a run stopped, with the Civitai failure's code first (`civitai_timeout: …`). */
const reasonOf = (error: unknown) =>
  error instanceof DomainError ? `${error.code}: ${errorMessage(error)}` : errorMessage(error);

/**
 * Civitai runs: bulk lookups by hash and update checks, each a row (its targets, counts and failures) and a queued
 * job. One run at a time (they share the rate limit). The targets are fixed when a run first starts and `done` is
 * saved as it goes, so a retry or a restart goes on after the last adapter done. A failure of one adapter (changed
 * file, no hash) is counted and listed; Civitai failing (timeout, 5xx, 429 beyond the wait allowed, bad answer) stops
 * the run, which is retried and then fails with the reason.
 */
@Injectable()
export class CivitaiRunService {
  constructor(
    private readonly runs: CivitaiRunRepository,
    private readonly adapters: AdapterRepository,
    private readonly query: AdapterQueryService,
    private readonly lookups: CivitaiLookupService,
    private readonly updates: CivitaiUpdateService,
    private readonly jobs: JobQueue,
    private readonly bus: EventBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The active run (of any kind), or a new queued one; `created` says which. */
  async start(
    kind: CivitaiRunKind,
    scope: CivitaiRunScope,
    trigger: CivitaiRunTrigger,
  ): Promise<{ run: CivitaiRunEntity; created: boolean }> {
    const active = await this.runs.findActive();
    if (active) return { run: active, created: false };
    const run = await this.runs.create(this.newRun(kind, scope, trigger, CivitaiRunStatus.Queued));
    await this.jobs.enqueue(JobName.CivitaiRun, { jobId: run.id }, { jobId: run.id });
    return { run, created: true };
  }

  /** `CIVITAI_AUTO_LOOKUP`: after a hash run, a lookup of the unmatched files not asked about lately, if any. */
  async startAfterHash(): Promise<CivitaiRunEntity | null> {
    if (!this.config.civitai.autoLookup) return null;
    const ids = await this.adapters.unmatchedIds(new Date(Date.now() - this.config.civitai.recheckMs));
    if (ids.length === 0) return null;
    return (await this.start(CivitaiRunKind.Lookup, {}, CivitaiRunTrigger.Hash)).run;
  }

  async get(id: string): Promise<CivitaiRunEntity> {
    const run = await this.runs.findById(id);
    if (!run) throw new NotFoundError('Civitai run', id);
    return run;
  }

  list(limit = 20, kind?: CivitaiRunKind): Promise<CivitaiRunEntity[]> {
    return this.runs.list(limit, kind);
  }

  active(): Promise<CivitaiRunEntity | null> {
    return this.runs.findActive();
  }

  /** Cancels a run: a queued one ends at once, a running one after the adapter it is doing. */
  async cancel(id: string): Promise<{ run: CivitaiRunEntity; outcome: CancelOutcome }> {
    const run = await this.get(id);
    if (!isActive(run)) return { run, outcome: CancelOutcome.AlreadyFinished };
    const outcome = await this.jobs.cancel(JobName.CivitaiRun, id);
    if (outcome === CancelOutcome.Removed || outcome === CancelOutcome.NotFound) {
      await this.runs.finish(id, { status: CivitaiRunStatus.Cancelled, error: 'cancelled' });
      this.bus.publish('civitai.completed', {
        jobId: id,
        kind: run.kind,
        status: CivitaiRunStatus.Cancelled,
        counts: run.counts,
        error: 'cancelled',
      });
    }
    return { run: await this.get(id), outcome: outcome === CancelOutcome.NotFound ? CancelOutcome.Removed : outcome };
  }

  /**
   * Does a run's work in this process (the job handler, or `civitai lookup --wait`). A cancel ends it `cancelled`;
   * any other error is thrown with the run left running (its progress saved), for the caller to retry or `fail`.
   */
  async execute(run: CivitaiRunEntity, hooks: CivitaiRunHooks): Promise<CivitaiRunCounts> {
    if (!(await this.runs.markRunning(run.id))) return run.counts;
    let targets = run.targets;
    const counts = { ...run.counts };
    if (!targets) {
      targets = await this.resolve(run);
      Object.assign(counts, emptyCivitaiCounts(), { total: targets.length });
      await this.runs.saveTargets(run.id, targets, counts);
    }
    const failures = [...run.failures];
    let savedAt = Date.now();
    const save = () => this.runs.saveProgress(run.id, { ...counts }, [...failures]);
    try {
      for (let i = counts.done; i < targets.length; i++) {
        hooks.signal.throwIfAborted();
        try {
          await this.doOne(run.kind, targets[i], counts, hooks.signal);
        } catch (error) {
          // Civitai itself failing stops the run; a problem of one adapter does not.
          if (error instanceof CivitaiError || !(error instanceof DomainError)) throw error;
          counts.failed++;
          if (failures.length < MAX_LISTED) failures.push({ adapterId: targets[i], reason: reasonOf(error) });
        }
        counts.done = i + 1;
        hooks.onProgress?.({ ...counts });
        await hooks.emit?.('civitai.progress', { jobId: run.id, kind: run.kind, counts: { ...counts } });
        if (Date.now() - savedAt >= SAVE_EVERY_MS) {
          savedAt = Date.now();
          await save();
        }
      }
      await this.runs.finish(run.id, { status: CivitaiRunStatus.Completed, counts, failures });
      await hooks.emit?.('civitai.completed', {
        jobId: run.id,
        kind: run.kind,
        status: CivitaiRunStatus.Completed,
        counts,
      });
      return counts;
    } catch (error) {
      await save().catch(() => undefined);
      if (hooks.signal.aborted) await this.end(run.id, CivitaiRunStatus.Cancelled, 'cancelled', hooks);
      throw error;
    }
  }

  /** Ends a run that failed for good (its last attempt), saying why. */
  async fail(id: string, error: unknown, hooks: Pick<CivitaiRunHooks, 'emit'>): Promise<void> {
    await this.end(id, CivitaiRunStatus.Failed, reasonOf(error), hooks);
  }

  /**
   * `civitai lookup --wait`: does the active run here when nothing else has started it, follows it when another
   * process runs it, or starts a new one. Returns the run once it has ended.
   */
  async runHere(kind: CivitaiRunKind, scope: CivitaiRunScope, hooks: CivitaiRunHooks): Promise<CivitaiRunEntity> {
    let run = await this.runs.findActive();
    if (run?.status === CivitaiRunStatus.Queued) {
      const outcome = await this.jobs.cancel(JobName.CivitaiRun, run.id);
      if (outcome === CancelOutcome.Signalled) return this.follow(run.id, hooks);
    } else if (run?.status === CivitaiRunStatus.Running) {
      return this.follow(run.id, hooks);
    }
    run ??= await this.runs.create(this.newRun(kind, scope, CivitaiRunTrigger.Cli, CivitaiRunStatus.Running));
    try {
      await this.execute(run, hooks);
    } catch (error) {
      if (!hooks.signal.aborted) await this.fail(run.id, error, hooks);
    }
    return this.get(run.id);
  }

  private async doOne(kind: CivitaiRunKind, id: string, counts: CivitaiRunCounts, signal: AbortSignal): Promise<void> {
    if (kind === CivitaiRunKind.Lookup) {
      const result = await this.lookups.lookup(id, signal);
      if (result.found) counts.found++;
      else counts.notFound++;
      return;
    }
    const result = await this.updates.check(id, signal);
    if (result.modelFound) counts.found++;
    else counts.notFound++;
    if (result.newer.length > 0) counts.withUpdates++;
  }

  /** The adapters a run covers: its ids, its filter's matches, or every candidate of its kind. */
  private async resolve(run: CivitaiRunEntity): Promise<string[]> {
    const { adapterIds, filter } = run.scope;
    if (adapterIds) return [...new Set(adapterIds)];
    if (filter) {
      const ids: string[] = [];
      for (let page = 1; ids.length < MAX_FILTERED; page++) {
        const result = await this.query.list({ ...filter, page, limit: MAX_PAGE_LIMIT });
        for (const a of result.items) {
          if (run.kind === CivitaiRunKind.Lookup || a.civitaiModelId !== null) ids.push(a.id);
        }
        if (page >= result.pages) break;
      }
      return ids.slice(0, MAX_FILTERED);
    }
    return run.kind === CivitaiRunKind.Lookup
      ? this.adapters.unmatchedIds(new Date(Date.now() - this.config.civitai.recheckMs))
      : this.updates.linkedIds();
  }

  private async follow(id: string, hooks: CivitaiRunHooks): Promise<CivitaiRunEntity> {
    for (;;) {
      const run = await this.get(id);
      hooks.onProgress?.(run.counts);
      if (!isActive(run)) return run;
      await sleep(FOLLOW_EVERY_MS, undefined, { signal: hooks.signal });
    }
  }

  private async end(
    id: string,
    status: CivitaiRunStatus,
    error: string,
    hooks: Pick<CivitaiRunHooks, 'emit'>,
  ): Promise<void> {
    await this.runs.finish(id, { status, error });
    const run = await this.runs.findById(id);
    await hooks.emit?.('civitai.completed', {
      jobId: id,
      kind: run?.kind ?? CivitaiRunKind.Lookup,
      status,
      counts: run?.counts ?? emptyCivitaiCounts(),
      error,
    });
  }

  private newRun(
    kind: CivitaiRunKind,
    scope: CivitaiRunScope,
    trigger: CivitaiRunTrigger,
    status: CivitaiRunStatus,
  ): CivitaiRunEntity {
    const now = new Date();
    return {
      id: randomUUID(),
      kind,
      status,
      trigger,
      scope,
      targets: null,
      counts: emptyCivitaiCounts(),
      failures: [] as CivitaiRunFailure[],
      error: null,
      createdAt: now,
      startedAt: status === CivitaiRunStatus.Running ? now : null,
      finishedAt: null,
    };
  }
}
