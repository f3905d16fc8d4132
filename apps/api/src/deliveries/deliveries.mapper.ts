import type { Role } from '@app/core';
import type { DeliveryJobEntity, DisclosurePolicy } from '@app/delivery';
import type { DeliveryJobDto } from './deliveries.dto.js';

/** The delivery as the caller's role may read it (URL tokens and CLI details are for admins). */
export function toDeliveryJobDto(job: DeliveryJobEntity, disclosure: DisclosurePolicy, role: Role): DeliveryJobDto {
  return disclosure.delivery(role, {
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
  });
}
