import { generationImagePath, type GenerationJobEntity, type SyncGenerationResult } from '@app/generation';
import type { GenerationJobDto, GenerationProgressDto, SyncGenerationDto } from './generation.dto.js';

export function toGenerationJobDto(job: GenerationJobEntity): GenerationJobDto {
  return {
    id: job.id,
    status: job.status,
    mode: job.mode,
    backendId: job.backendId,
    request: job.request as Record<string, unknown>,
    composedPrompt: job.composedPrompt,
    adaptersUsed: job.adaptersUsed,
    progress: job.progress,
    step: job.step,
    steps: job.steps,
    etaSeconds: job.etaSeconds,
    images: (job.images ?? []).map((i) => ({
      index: i.index,
      url: generationImagePath(job.id, i.index),
      contentType: i.contentType,
      size: i.size,
    })),
    info: job.info as Record<string, unknown> | null,
    seed: job.seed,
    error: job.error,
    attempts: job.attempts,
    cancelRequested: job.cancelRequestedAt !== null,
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
  };
}

export function toGenerationProgressDto(job: GenerationJobEntity): GenerationProgressDto {
  return {
    jobId: job.id,
    status: job.status,
    backendId: job.backendId,
    progress: job.progress,
    step: job.step,
    steps: job.steps,
    etaSeconds: job.etaSeconds,
  };
}

export function toSyncGenerationDto(result: SyncGenerationResult): SyncGenerationDto {
  const job = toGenerationJobDto(result.job);
  return {
    job,
    images: result.images.map((image, index) => ({
      index,
      url: generationImagePath(result.job.id, index),
      contentType: image.contentType,
      size: image.bytes.length,
      base64: image.bytes.toString('base64'),
    })),
  };
}
