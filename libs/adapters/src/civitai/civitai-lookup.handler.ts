import { Inject, Injectable } from '@nestjs/common';
import {
  APP_CONFIG,
  type AppConfig,
  type CivitaiLookupPayload,
  DomainError,
  type JobContext,
  type JobHandler,
  JobHandlerFor,
  JobName,
  errorMessage,
} from '@app/core';
import { AdapterRepository } from '../library/adapter.repository.js';
import { CivitaiError } from './civitai.port.js';
import { CivitaiLookupService } from './civitai-lookup.service.js';

export interface CivitaiLookupCounts {
  total: number;
  found: number;
  notFound: number;
  failed: number;
}

/** First failures kept in the job's result. */
const MAX_LISTED = 100;

/**
 * Looks many adapters up on Civitai, one at a time within the client's rate limit: the given ids, or every present
 * hashed adapter without a Civitai version that was not asked about within `CIVITAI_RECHECK_DAYS`. A file that
 * cannot be looked up (changed, not hashed) is counted and listed; Civitai failing stops the job (it is retried).
 */
@Injectable()
@JobHandlerFor(JobName.CivitaiLookup)
export class CivitaiLookupJobHandler implements JobHandler<JobName.CivitaiLookup> {
  constructor(
    private readonly adapters: AdapterRepository,
    private readonly lookups: CivitaiLookupService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async handle(
    payload: CivitaiLookupPayload,
    context: JobContext,
  ): Promise<{ counts: CivitaiLookupCounts; failures: { adapterId: string; reason: string }[] }> {
    const ids =
      payload.adapterIds ?? (await this.adapters.unmatchedIds(new Date(Date.now() - this.config.civitai.recheckMs)));
    const counts: CivitaiLookupCounts = { total: ids.length, found: 0, notFound: 0, failed: 0 };
    const failures: { adapterId: string; reason: string }[] = [];
    for (const [i, id] of ids.entries()) {
      context.signal.throwIfAborted();
      try {
        const result = await this.lookups.lookup(id, context.signal);
        if (result.found) counts.found++;
        else counts.notFound++;
      } catch (error) {
        // Civitai itself failing ends this attempt; a problem of one adapter does not.
        if (error instanceof CivitaiError || !(error instanceof DomainError)) throw error;
        counts.failed++;
        if (failures.length < MAX_LISTED) failures.push({ adapterId: id, reason: errorMessage(error) });
      }
      await context.progress((i + 1) / Math.max(1, ids.length), `${i + 1}/${ids.length}`);
    }
    return { counts, failures };
  }
}
