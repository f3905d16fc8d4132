import { Injectable } from '@nestjs/common';
import { type ImportPayload, type JobContext, type JobHandler, JobHandlerFor, JobName, UnrecoverableJobError, errorMessage } from '@app/core';
import { ImportRunStatus } from './import-run.entity.js';
import { ImportRunRepository } from './import-run.repository.js';
import { ImportService } from './import.service.js';

const PROGRESS_EVERY_MS = 250;

/** Runs one import run; a retry or a duplicate delivery of a finished run does nothing. */
@Injectable()
@JobHandlerFor(JobName.Import)
export class ImportJobHandler implements JobHandler<JobName.Import> {
  constructor(
    private readonly runs: ImportRunRepository,
    private readonly importer: ImportService,
  ) {}

  async handle(payload: ImportPayload, context: JobContext): Promise<unknown> {
    const run = await this.runs.findById(payload.runId);
    if (!run) throw new UnrecoverableJobError(`import run ${payload.runId} does not exist`);
    if (run.status === ImportRunStatus.Completed || run.status === ImportRunStatus.Failed) return { skipped: run.status };
    await this.runs.markRunning(run.id);
    let last = 0;
    const saver = this.runs.progressSaver(run.id);
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
            saver.offer(p.counts);
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
      await saver.settled();
      await this.runs.finish(run.id, {
        status: ImportRunStatus.Completed,
        counts: report.counts,
        failures: report.failures,
        failureCount: report.failureCount,
      });
      await context.emit('import.completed', { jobId: run.id, status: ImportRunStatus.Completed, counts: report.counts });
      return { counts: report.counts, failureCount: report.failureCount, durationMs: report.durationMs };
    } catch (error) {
      const reason = errorMessage(error);
      await saver.settled();
      if (context.attempt >= context.maxAttempts || context.signal.aborted) {
        const fresh = await this.runs.findById(run.id);
        await this.runs.finish(run.id, {
          status: ImportRunStatus.Failed,
          counts: fresh?.counts ?? run.counts,
          failures: fresh?.failures ?? [],
          failureCount: fresh?.failureCount ?? 0,
          error: reason,
        });
        await context.emit('import.completed', { jobId: run.id, status: ImportRunStatus.Failed, counts: fresh?.counts ?? run.counts });
      }
      throw error;
    }
  }
}
