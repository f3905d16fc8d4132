import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InvalidInputError, JobName, JobQueue, NotFoundError, errorMessage, ignoreGlobProblem } from '@app/core';
import { HashPolicy, type ImportRunEntity, type ImportRunOptions, ImportRunStatus } from './import-run.entity.js';
import { ImportRunRecorder } from './import-run.recorder.js';
import { ImportRunRepository } from './import-run.repository.js';
import { emptyCounts, type ImportProgress, type ImportReport } from './import-report.js';
import { ImportService } from './import.service.js';
import { LibraryRoots } from '../library/library-roots.js';

export interface StartImportInput {
  paths?: string[];
  dryRun?: boolean;
  forceResync?: boolean;
  hash?: HashPolicy;
  /** Globs relative to each root to skip in this run, on top of `LORA_IGNORE`. */
  ignore?: string[];
}

/** A run's options with their defaults; its own ignore globs checked (a bad one is a 400 naming it). */
function runOptions(input: StartImportInput): ImportRunOptions {
  const ignore = input.ignore ?? [];
  for (const [i, glob] of ignore.entries()) {
    const problem = ignoreGlobProblem(glob);
    if (problem) throw InvalidInputError.field(`ignore[${i}]`, problem, 'bad_ignore_glob');
  }
  return {
    dryRun: input.dryRun ?? false,
    forceResync: input.forceResync ?? false,
    hash: input.hash ?? HashPolicy.Lazy,
    ...(ignore.length > 0 ? { ignore } : {}),
  };
}

/** Import runs as jobs: a row first (the run's state and failures), then a queued job that performs it. */
@Injectable()
export class ImportRunService {
  constructor(
    private readonly runs: ImportRunRepository,
    private readonly jobs: JobQueue,
    private readonly roots: LibraryRoots,
    private readonly importer: ImportService,
  ) {}

  async start(input: StartImportInput): Promise<ImportRunEntity> {
    // Validate paths now, so a bad one is a 400 for the caller rather than a failed job later.
    const paths = input.paths ?? [];
    for (const [i, p] of paths.entries()) await this.roots.resolveInside(p, `paths[${i}]`);
    const run = await this.create(paths, { ...runOptions(input), paths }, ImportRunStatus.Queued);
    await this.jobs.enqueue(JobName.Import, { runId: run.id, paths }, { jobId: run.id });
    return run;
  }

  /**
   * Runs an import in this process (the CLI), recording it as a run like a queued one. A dry run writes
   * nothing, not even its run row.
   */
  async runNow(
    input: StartImportInput & { syncIo?: boolean },
    hooks: { onProgress?: (p: ImportProgress) => void; signal?: AbortSignal } = {},
  ): Promise<{ run: ImportRunEntity | null; report: ImportReport }> {
    const paths = input.paths ?? [];
    const options = runOptions(input);
    const run = options.dryRun ? null : await this.create(paths, options, ImportRunStatus.Running);
    const recorder = run ? new ImportRunRecorder(this.runs, run.id, run.counts) : null;
    const onProgress = (p: ImportProgress) => {
      recorder?.progress(p.counts);
      hooks.onProgress?.(p);
    };
    try {
      const report = await this.importer.run({ paths, ...options, syncIo: input.syncIo }, { ...hooks, onProgress });
      await recorder?.completed(report);
      return { run, report };
    } catch (error) {
      await recorder?.failed(errorMessage(error));
      throw error;
    }
  }

  /** A new run's row: queued for a job, or running at once (the CLI). */
  private create(paths: string[], options: ImportRunOptions, status: ImportRunStatus): Promise<ImportRunEntity> {
    const now = new Date();
    return this.runs.create({
      id: randomUUID(),
      roots: paths.length > 0 ? paths : this.roots.list().map((r) => r.path),
      options,
      status,
      counts: emptyCounts(),
      failures: [],
      failureCount: 0,
      error: null,
      createdAt: now,
      startedAt: status === ImportRunStatus.Running ? now : null,
      finishedAt: null,
    });
  }

  async get(id: string): Promise<ImportRunEntity> {
    const run = await this.runs.findById(id);
    if (!run) throw new NotFoundError('Import run', id);
    return run;
  }

  list(limit = 20): Promise<ImportRunEntity[]> {
    return this.runs.list(limit);
  }
}
