import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import {
  APP_CONFIG,
  type AppConfig,
  CancelOutcome,
  EventBus,
  type HashRunCounts,
  JobName,
  JobQueue,
  NotFoundError,
  type ProgressEventMap,
  errorMessage,
} from '@app/core';
import { AdapterRepository } from '../library/adapter.repository.js';
import { LibraryRoots } from '../library/library-roots.js';
import type { ImportFailure } from '../import-runs/import-run.entity.js';
import { FileHasher } from './file-hasher.js';
import { HashPass } from './hash-pass.js';
import { emptyHashCounts, type HashRunEntity, HashRunStatus, HashRunTrigger } from './hash-run.entity.js';
import { HashRunRepository } from './hash-run.repository.js';
import { CivitaiRunService } from '../civitai/civitai-runs.service.js';

/** How the library's hashes stand: present adapters, and those whose SHA-256 was computed from their file. */
export interface HashStatus {
  adapters: number;
  verified: number;
  unverified: number;
  /** The run queued or running, if any. */
  active: HashRunEntity | null;
  /** The newest run that has ended, if any. */
  last: HashRunEntity | null;
}

export interface HashExecuteHooks {
  signal: AbortSignal;
  emit?: <E extends 'hash.progress' | 'hash.completed'>(event: E, payload: ProgressEventMap[E]) => Promise<void>;
  onProgress?: (counts: HashRunCounts) => void;
}

/** Run counts are saved at most this often while a run goes on. */
const SAVE_EVERY_MS = 1000;
/** How often `follow` reads a run being done by another process. */
const FOLLOW_EVERY_MS = 500;

/**
 * Hash runs: a row (the run's state), then a queued job that works through every present file whose hash was
 * never computed. One run at a time: starting one while another is queued or running returns that one.
 */
@Injectable()
export class HashRunService {
  constructor(
    private readonly runs: HashRunRepository,
    private readonly adapters: AdapterRepository,
    private readonly roots: LibraryRoots,
    private readonly jobs: JobQueue,
    private readonly bus: EventBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly civitaiRuns: CivitaiRunService,
  ) {}

  /** The active run, or a new queued one; `created` says which. */
  async start(trigger: HashRunTrigger): Promise<{ run: HashRunEntity; created: boolean }> {
    const active = await this.runs.findActive();
    if (active) return { run: active, created: false };
    const run = await this.runs.create(this.newRun(trigger, HashRunStatus.Queued));
    await this.jobs.enqueue(JobName.Hash, { jobId: run.id }, { jobId: run.id });
    return { run, created: true };
  }

  /**
   * After an import: a run when files are left unhashed and none is active (`HASH_AFTER_IMPORT`); null when there
   * is nothing to do.
   */
  async startAfterImport(): Promise<HashRunEntity | null> {
    if (!this.config.hashJob.afterImport) return null;
    const { present, verified } = await this.adapters.hashCounts();
    if (present === verified) return null;
    return (await this.start(HashRunTrigger.Import)).run;
  }

  async get(id: string): Promise<HashRunEntity> {
    const run = await this.runs.findById(id);
    if (!run) throw new NotFoundError('Hash run', id);
    return run;
  }

  list(limit = 20): Promise<HashRunEntity[]> {
    return this.runs.list(limit);
  }

  async status(): Promise<HashStatus> {
    const [{ present, verified }, active, recent] = await Promise.all([
      this.adapters.hashCounts(),
      this.runs.findActive(),
      this.runs.list(20),
    ]);
    const last = recent.find((r) => r.status !== HashRunStatus.Queued && r.status !== HashRunStatus.Running) ?? null;
    return { adapters: present, verified, unverified: present - verified, active, last };
  }

  /** Cancels a run: a queued one ends at once, a running one at its next file. */
  async cancel(id: string): Promise<{ run: HashRunEntity; outcome: CancelOutcome }> {
    const run = await this.get(id);
    if (run.status !== HashRunStatus.Queued && run.status !== HashRunStatus.Running) {
      return { run, outcome: CancelOutcome.AlreadyFinished };
    }
    const outcome = await this.jobs.cancel(JobName.Hash, id);
    // Removed from the queue, or a queue that no longer knows it: nothing will run it, so it ends here.
    if (outcome === CancelOutcome.Removed || outcome === CancelOutcome.NotFound) {
      await this.runs.finish(id, { status: HashRunStatus.Cancelled, error: 'cancelled' });
      this.bus.publish('hash.completed', { jobId: id, status: HashRunStatus.Cancelled, counts: run.counts });
    }
    return { run: await this.get(id), outcome: outcome === CancelOutcome.NotFound ? CancelOutcome.Removed : outcome };
  }

  /**
   * Does a run's work in this process (the job handler, or `hash --wait`). A cancel ends it `cancelled`; any other
   * error is thrown with the run left running, for the caller to retry or fail (`fail`).
   */
  async execute(run: HashRunEntity, hooks: HashExecuteHooks): Promise<HashRunCounts> {
    if (!(await this.runs.markRunning(run.id))) return run.counts;
    const hasher = new FileHasher(this.config.hashJob.maxBytesPerSecond);
    let savedAt = 0;
    let saving: Promise<void> = Promise.resolve();
    const pass = new HashPass(this.adapters, this.roots.list(), hasher, {
      signal: hooks.signal,
      onProgress: (counts, failures, currentPath) => {
        hooks.onProgress?.(counts);
        void hooks.emit?.('hash.progress', { jobId: run.id, counts, currentPath });
        const now = Date.now();
        if (now - savedAt < SAVE_EVERY_MS) return;
        savedAt = now;
        const listed = [...failures];
        saving = saving.then(() => this.runs.saveProgress(run.id, counts, listed)).catch(() => undefined);
      },
    });
    try {
      const { counts, failures } = await pass.run();
      await saving;
      await this.runs.finish(run.id, { status: HashRunStatus.Completed, counts, failures });
      await hooks.emit?.('hash.completed', { jobId: run.id, status: HashRunStatus.Completed, counts });
      // CIVITAI_AUTO_LOOKUP: the files just hashed are looked up (a failure to queue it does not fail the hashing).
      await this.civitaiRuns.startAfterHash().catch(() => null);
      return counts;
    } catch (error) {
      await saving;
      if (hooks.signal.aborted) await this.end(run.id, HashRunStatus.Cancelled, 'cancelled', hooks);
      throw error;
    } finally {
      await hasher.close();
    }
  }

  /** Ends a run that failed for good (its last attempt). */
  async fail(id: string, error: unknown, hooks: Pick<HashExecuteHooks, 'emit'>): Promise<void> {
    await this.end(id, HashRunStatus.Failed, errorMessage(error), hooks);
  }

  /**
   * `hash --wait`: does the active run here when nothing else has started it (a queued job is taken off the queue
   * first), follows it when another process runs it, or starts a new one. Returns the run once it has ended.
   */
  async runHere(hooks: HashExecuteHooks): Promise<HashRunEntity> {
    let run = await this.runs.findActive();
    if (run?.status === HashRunStatus.Queued) {
      const outcome = await this.jobs.cancel(JobName.Hash, run.id);
      if (outcome === CancelOutcome.Signalled) return this.follow(run.id, hooks);
    } else if (run?.status === HashRunStatus.Running) {
      return this.follow(run.id, hooks);
    }
    run ??= await this.runs.create(this.newRun(HashRunTrigger.Cli, HashRunStatus.Running));
    try {
      await this.execute(run, hooks);
    } catch (error) {
      if (!hooks.signal.aborted) await this.fail(run.id, error, hooks);
    }
    return this.get(run.id);
  }

  /** Waits for a run that another process does, reporting its saved counts. */
  private async follow(id: string, hooks: HashExecuteHooks): Promise<HashRunEntity> {
    for (;;) {
      const run = await this.get(id);
      hooks.onProgress?.(run.counts);
      if (run.status !== HashRunStatus.Queued && run.status !== HashRunStatus.Running) return run;
      await sleep(FOLLOW_EVERY_MS, undefined, { signal: hooks.signal });
    }
  }

  private async end(
    id: string,
    status: HashRunStatus,
    error: string,
    hooks: Pick<HashExecuteHooks, 'emit'>,
  ): Promise<void> {
    await this.runs.finish(id, { status, error });
    const run = await this.runs.findById(id);
    await hooks.emit?.('hash.completed', { jobId: id, status, counts: run?.counts ?? emptyHashCounts(), error });
  }

  private newRun(trigger: HashRunTrigger, status: HashRunStatus): HashRunEntity {
    const now = new Date();
    return {
      id: randomUUID(),
      status,
      trigger,
      counts: emptyHashCounts(),
      failures: [] as ImportFailure[],
      error: null,
      createdAt: now,
      startedAt: status === HashRunStatus.Running ? now : null,
      finishedAt: null,
    };
  }
}
