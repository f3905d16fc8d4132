import { Injectable, Logger } from '@nestjs/common';
import {
  type ImportPayload,
  type JobContext,
  type JobHandler,
  JobHandlerFor,
  JobName,
  UnrecoverableJobError,
  errorMessage,
} from '@app/core';
import { HashRunService } from '../hashing/hash-run.service.js';
import { ImportRunStatus } from './import-run.entity.js';
import { ImportRunRecorder } from './import-run.recorder.js';
import { ImportRunRepository } from './import-run.repository.js';
import { ImportService } from './import.service.js';

const PROGRESS_EVERY_MS = 250;

/** Runs one import run; a retry or a duplicate delivery of a finished run does nothing. */
@Injectable()
@JobHandlerFor(JobName.Import)
export class ImportJobHandler implements JobHandler<JobName.Import> {
  private readonly logger = new Logger(ImportJobHandler.name);

  constructor(
    private readonly runs: ImportRunRepository,
    private readonly importer: ImportService,
    private readonly hashRuns: HashRunService,
  ) {}

  async handle(payload: ImportPayload, context: JobContext): Promise<unknown> {
    const run = await this.runs.findById(payload.runId);
    if (!run) throw new UnrecoverableJobError(`import run ${payload.runId} does not exist`);
    if (run.status === ImportRunStatus.Completed || run.status === ImportRunStatus.Failed)
      return { skipped: run.status };
    await this.runs.markRunning(run.id);
    let last = 0;
    const recorder = new ImportRunRecorder(this.runs, run.id, run.counts);
    try {
      const report = await this.importer.run(
        {
          paths: payload.paths,
          dryRun: run.options.dryRun,
          forceResync: run.options.forceResync,
          hash: run.options.hash,
          ignore: run.options.ignore,
        },
        {
          signal: context.signal,
          onProgress: (p) => {
            recorder.progress(p.counts);
            const now = Date.now();
            if (now - last < PROGRESS_EVERY_MS) return;
            last = now;
            void context.emit('import.progress', {
              jobId: run.id,
              counts: p.counts,
              processed: p.processed,
              total: p.total,
              currentPath: p.currentPath,
            });
            void context.progress(p.total ? p.processed / p.total : 0, p.phase);
          },
        },
      );
      await recorder.completed(report);
      await context.emit('import.completed', {
        jobId: run.id,
        status: ImportRunStatus.Completed,
        counts: report.counts,
      });
      // Files this run left unhashed (lazy hashing) get their hashes in the background.
      const hashRun = run.options.dryRun
        ? null
        : await this.hashRuns.startAfterImport().catch((error: unknown) => {
            this.logger.warn(`Could not start a hash run after import ${run.id}: ${errorMessage(error)}`);
            return null;
          });
      return {
        counts: report.counts,
        failureCount: report.failureCount,
        durationMs: report.durationMs,
        hashRunId: hashRun?.id ?? null,
      };
    } catch (error) {
      if (context.attempt >= context.maxAttempts || context.signal.aborted) {
        const counts = await recorder.failed(errorMessage(error));
        await context.emit('import.completed', { jobId: run.id, status: ImportRunStatus.Failed, counts });
      } else {
        // Another attempt follows: the run stays running.
        await recorder.stop();
      }
      throw error;
    }
  }
}
