import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  APP_CONFIG,
  type AppConfig,
  ConflictError,
  type FieldProblem,
  InvalidInputError,
  type Principal,
  Role,
  errorMessage,
} from '@app/core';
import {
  FINISHED_GENERATION_STATUSES,
  type GenerationJobEntity,
  type GenerationRequest,
  GenerationService,
  GenerationStatus,
  generationImagePath,
  toTxt2ImgParams,
} from '@app/generation';
import {
  DeliveryAttemptError,
  type DeliveryBackend,
  type DeliveryBackendInfo,
  DeliveryCancelledError,
  type DeliveryContext,
} from '../delivery-backend.js';
import { DeliveryMode, type DeliveryJobEntity, type DeliveryResult } from '../delivery-job.entity.js';
import { DeliveryJobRepository } from '../delivery-job.repository.js';

/** The generation row is polled: it works the same whichever process (API or worker) runs the generation. */
const POLL_MS = 250;

/** txt2img fields a delivery may set; the prompt and negative prompt come from the delivery itself. */
const GENERATION_FIELDS = [
  'steps',
  'cfg_scale',
  'width',
  'height',
  'seed',
  'subseed',
  'subseed_strength',
  'sampler_name',
  'batch_size',
  'n_iter',
  'clip_skip',
  'checkpoint',
  'enable_hr',
  'hr_scale',
  'hr_upscaler',
  'hr_second_pass_steps',
  'denoising_strength',
  'backend_id',
] as const satisfies readonly (keyof GenerationRequest)[];

/**
 * Queues a generation through the generation lib and finishes when it does. The generation's id is stored on the
 * delivery before it is awaited, so a delivery rerun after a crash waits for the same generation instead of
 * starting a second one. A cancel of the delivery cancels the generation.
 */
/** The generation id of a delivery: a UUID derived from the delivery id (never equal to it: job ids share a table). */
export function generationIdFor(deliveryId: string): string {
  const h = createHash('sha256').update(`delivery-generation:${deliveryId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

@Injectable()
export class SdNextDeliveryBackend implements DeliveryBackend {
  readonly name = DeliveryMode.SdNext;
  readonly safeToRerun = true;
  private readonly logger = new Logger(SdNextDeliveryBackend.name);
  private readonly backendIds: string[];

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly generation: GenerationService,
    private readonly repository: DeliveryJobRepository,
  ) {
    this.backendIds = config.sdnext.backends.map((b) => b.id);
  }

  info(): DeliveryBackendInfo {
    return { name: this.name, allowList: [...this.backendIds], requiredRole: Role.Editor };
  }

  validate(params: Record<string, unknown>, _principal: Principal): Record<string, unknown> {
    const problems: FieldProblem[] = Object.keys(params)
      .filter((key) => !(GENERATION_FIELDS as readonly string[]).includes(key))
      .map((key) => ({ field: `params.${key}`, message: 'unknown field' }));
    try {
      toTxt2ImgParams({ ...params, prompt: '' });
    } catch (error) {
      if (!(error instanceof InvalidInputError) || !Array.isArray(error.details)) throw error;
      problems.push(...error.details.map((p) => ({ field: `params.${p.field}`, message: p.message })));
    }
    const backendId = params.backend_id;
    if (typeof backendId === 'string' && !this.backendIds.includes(backendId)) {
      problems.push({
        field: 'params.backend_id',
        message: `must be one of ${this.backendIds.join(', ') || '(none configured)'}`,
      });
    }
    if (this.backendIds.length === 0)
      problems.push({ field: 'mode', message: 'no SD.Next backend is configured (SDNEXT_URL)' });
    if (problems.length > 0) {
      throw new InvalidInputError(
        'invalid_delivery_params',
        problems.map((p) => `${p.field}: ${p.message}`).join('; '),
        problems,
      );
    }
    return { ...params };
  }

  async deliver(job: DeliveryJobEntity, context: DeliveryContext): Promise<DeliveryResult> {
    let generationId = job.generationJobId;
    if (generationId === null) {
      if (context.signal.aborted) throw new DeliveryCancelledError('cancelled before the generation was queued');
      const request = {
        ...(job.params as Omit<GenerationRequest, 'prompt' | 'negative_prompt'>),
        prompt: job.prompt,
        ...(job.negativePrompt ? { negative_prompt: job.negativePrompt } : {}),
      } satisfies GenerationRequest;
      let created: GenerationJobEntity;
      try {
        // A deterministic id: if this attempt dies after queueing, the next one finds the same generation.
        created = await this.generation.queue(request, { composedPrompt: job.prompt, jobId: generationIdFor(job.id) });
      } catch (error) {
        throw new DeliveryAttemptError(`the generation could not be queued: ${errorMessage(error)}`, false);
      }
      generationId = created.id;
      await this.repository.setGenerationJobId(job.id, generationId);
    }
    const generation = await this.await(generationId, context.signal);
    const result: DeliveryResult = {
      generationJobId: generation.id,
      backendId: generation.backendId,
      seed: generation.seed,
      images: (generation.images ?? []).map((i) => ({
        index: i.index,
        url: generationImagePath(generation.id, i.index),
        contentType: i.contentType,
        size: i.size,
      })),
    };
    switch (generation.status) {
      case GenerationStatus.Succeeded:
        return result;
      case GenerationStatus.Cancelled:
        if (context.signal.aborted)
          throw new DeliveryCancelledError(`the generation was cancelled: ${generation.error ?? ''}`.trim(), result);
        throw new DeliveryAttemptError(
          `the generation was cancelled: ${generation.error ?? 'no reason'}`,
          false,
          result,
        );
      default:
        throw new DeliveryAttemptError(`the generation failed: ${generation.error ?? 'no reason'}`, false, result);
    }
  }

  /** Polls until the generation ends; on cancel, cancels it and waits for its outcome. */
  private async await(id: string, signal: AbortSignal): Promise<GenerationJobEntity> {
    let cancelSent = false;
    for (;;) {
      const generation = await this.generation.get(id);
      if (FINISHED_GENERATION_STATUSES.includes(generation.status)) return generation;
      if (signal.aborted && !cancelSent) {
        cancelSent = true;
        try {
          const now = await this.generation.cancel(id);
          if (FINISHED_GENERATION_STATUSES.includes(now.status)) return now;
        } catch (error) {
          if (!(error instanceof ConflictError))
            this.logger.warn(`Cancel of generation ${id} failed: ${errorMessage(error)}`);
        }
        continue;
      }
      await sleep(POLL_MS);
    }
  }
}
