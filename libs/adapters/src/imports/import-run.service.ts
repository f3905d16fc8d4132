import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InvalidInputError, JobName, JobQueue, NotFoundError, errorMessage, ignoreGlobProblem } from '@app/core';
import { HashPolicy, type ImportRunEntity, type ImportRunOptions, ImportRunStatus } from './import-run.entity.js';
import { ImportRunRepository } from './import-run.repository.js';
import { emptyCounts, type ImportProgress, type ImportReport, ImportService } from './import.service.js';
import { LibraryRoots } from '../library/library-roots.js';

export interface StartImportInput {
  paths?: string[];
  dryRun?: boolean;
  forceResync?: boolean;
  hash?: HashPolicy;
  /** Globs relative to each root to skip in this run, on top of `LORA_IGNORE`. */
  ignore?: string[];
}

/** The run's own ignore globs, checked: a bad one is a 400 naming it. */
function checkedIgnore(ignore: string[] | undefined): string[] | undefined {
  if (!ignore || ignore.length === 0) return undefined;
  for (const [i, glob] of ignore.entries()) {
    const problem = ignoreGlobProblem(glob);
    if (problem) throw InvalidInputError.field(`ignore[${i}]`, problem, 'bad_ignore_glob');
  }
  return ignore;
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
    const ignore = checkedIgnore(input.ignore);
    const options: ImportRunOptions = {
      dryRun: input.dryRun ?? false,
      forceResync: input.forceResync ?? false,
      hash: input.hash ?? HashPolicy.Lazy,
      paths,
      ...(ignore ? { ignore } : {}),
    };
    const run = await this.runs.create({
      id: randomUUID(),
      roots: paths.length > 0 ? paths : this.roots.list().map((r) => r.path),
      options,
      status: ImportRunStatus.Queued,
      counts: emptyCounts(),
      failures: [],
      failureCount: 0,
      error: null,
      createdAt: new Date(),
      startedAt: null,
      finishedAt: null,
    });
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
    const ignore = checkedIgnore(input.ignore);
    const options: ImportRunOptions = {
      dryRun: input.dryRun ?? false,
      forceResync: input.forceResync ?? false,
      hash: input.hash ?? HashPolicy.Lazy,
      ...(ignore ? { ignore } : {}),
    };
    let run: ImportRunEntity | null = null;
    if (!options.dryRun) {
      run = await this.runs.create({
        id: randomUUID(),
        roots: paths.length > 0 ? paths : this.roots.list().map((r) => r.path),
        options,
        status: ImportRunStatus.Running,
        counts: emptyCounts(),
        failures: [],
        failureCount: 0,
        error: null,
        createdAt: new Date(),
        startedAt: new Date(),
        finishedAt: null,
      });
    }
    const saver = run ? this.runs.progressSaver(run.id) : null;
    const onProgress = (p: ImportProgress) => {
      saver?.offer(p.counts);
      hooks.onProgress?.(p);
    };
    try {
      const report = await this.importer.run({ paths, ...options, syncIo: input.syncIo }, { ...hooks, onProgress });
      await saver?.settled();
      if (run) {
        await this.runs.finish(run.id, {
          status: ImportRunStatus.Completed,
          counts: report.counts,
          failures: report.failures,
          failureCount: report.failureCount,
        });
      }
      return { run, report };
    } catch (error) {
      await saver?.settled();
      if (run) {
        await this.runs.finish(run.id, {
          status: ImportRunStatus.Failed,
          counts: (await this.runs.findById(run.id).catch(() => null))?.counts ?? run.counts,
          failures: [],
          failureCount: 0,
          error: errorMessage(error),
        });
      }
      throw error;
    }
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
