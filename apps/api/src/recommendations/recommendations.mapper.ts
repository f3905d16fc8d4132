import type { RecommendationsService } from '@app/insights';
import type { IndexStatsDto } from './recommendations.dto.js';

export function toIndexStatsDto({
  local,
  stored,
}: Awaited<ReturnType<RecommendationsService['stats']>>): IndexStatsDto {
  return {
    model: local.model,
    version: local.version,
    documents: local.documents,
    terms: local.terms,
    builtAt: local.builtAt.toISOString(),
    buildMs: local.buildMs,
    lastRebuild: stored
      ? {
          version: stored.version,
          status: stored.status,
          jobId: stored.jobId,
          documents: stored.documents,
          terms: stored.terms,
          buildMs: stored.buildMs,
          error: stored.error,
          startedAt: stored.startedAt?.toISOString() ?? null,
          builtAt: stored.builtAt?.toISOString() ?? null,
        }
      : // Before the first rebuild job: nothing stored yet.
        {
          version: 0,
          status: null,
          jobId: null,
          documents: 0,
          terms: 0,
          buildMs: null,
          error: null,
          startedAt: null,
          builtAt: null,
        },
  };
}
