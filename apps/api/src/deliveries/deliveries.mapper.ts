import type { DeliveryJobEntity } from '@app/delivery';
import type { DeliveryJobDto } from './deliveries.dto.js';

export function toDeliveryJobDto(job: DeliveryJobEntity): DeliveryJobDto {
  return {
    id: job.id,
    mode: job.mode,
    status: job.status,
    prompt: job.prompt,
    negativePrompt: job.negativePrompt,
    params: job.params as Record<string, unknown>,
    result: job.result as Record<string, unknown> | null,
    error: job.error,
    attempts: job.attempts,
    rating: job.rating,
    favorite: job.favorite,
    generationJobId: job.generationJobId,
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
    updatedAt: job.updatedAt.toISOString(),
  };
}
