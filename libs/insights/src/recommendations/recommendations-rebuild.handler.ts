import { Injectable } from '@nestjs/common';
import {
  errorMessage,
  type JobContext,
  type JobHandler,
  JobHandlerFor,
  JobName,
  type RecommendationsCompletedPayload,
} from '@app/core';
import { RecommendationIndexService } from './recommendation-index.service.js';
import { RecommendationsRepository } from './recommendations.repository.js';

/** Progress is reported every this many adapters read. */
const PROGRESS_EVERY = 10_000;

/**
 * Rebuilds the index in this process and bumps the stored version, so every other process rebuilds its own before
 * its next answer. Safe to retry: a rebuild only reads.
 */
@Injectable()
@JobHandlerFor(JobName.RecommendationsRebuild)
export class RecommendationsRebuildJobHandler implements JobHandler<JobName.RecommendationsRebuild> {
  constructor(
    private readonly indexes: RecommendationIndexService,
    private readonly repository: RecommendationsRepository,
  ) {}

  async handle(_payload: unknown, context: JobContext): Promise<RecommendationsCompletedPayload> {
    await this.repository.markRebuilding(context.jobId, new Date());
    try {
      const version = ((await this.repository.state())?.version ?? 0) + 1;
      let reported = 0;
      const stats = await this.indexes.rebuild(version, async (done, total) => {
        context.signal.throwIfAborted();
        if (done - reported < PROGRESS_EVERY && done < total) return;
        reported = done;
        await context.progress(done / Math.max(1, total), `${done}/${total}`);
        await context.emit('recommendations.progress', { jobId: context.jobId, done, total });
      });
      const stored = await this.repository.markRebuilt(context.jobId, stats, new Date());
      const result = {
        jobId: context.jobId,
        version: stored,
        documents: stats.documents,
        terms: stats.terms,
        buildMs: stats.buildMs,
      };
      await context.emit('recommendations.completed', result);
      return result;
    } catch (error) {
      await this.repository.markRebuildFailed(context.jobId, errorMessage(error));
      throw error;
    }
  }
}
