import { type GenerationResultEntity, resultImagePath } from '@app/results';
import type { ResultDto } from './results.dto.js';

export function toResultDto(row: GenerationResultEntity): ResultDto {
  return {
    id: row.id,
    jobId: row.jobId,
    imageIndex: row.imageIndex,
    storageKey: row.storageKey,
    format: row.format,
    contentType: row.contentType,
    width: row.width,
    height: row.height,
    bytes: row.bytes,
    seed: row.seed,
    request: row.request as Record<string, unknown>,
    prompt: row.prompt,
    negativePrompt: row.negativePrompt,
    loras: row.loras,
    model: row.model,
    backendId: row.backendId,
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt.toISOString(),
    durationMs: row.durationMs,
    rating: row.rating,
    favorite: row.favorite,
    tags: row.tags,
    notes: row.notes,
    url: resultImagePath(row.id),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
