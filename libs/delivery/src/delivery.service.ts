import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import {
  CancelOutcome,
  ConflictError,
  EventBus,
  type FieldProblem,
  ForbiddenError,
  InvalidInputError,
  JobName,
  JobQueue,
  MetricsService,
  NotFoundError,
  type Principal,
  Role,
  roleSatisfies,
} from '@app/core';
import { type ComposeRequest, CompositionService, usedAdaptersOf } from '@app/composition';
import type { DeliveryBackendInfo } from './delivery-backend.js';
import { DeliveryBackendRegistry } from './delivery-backend.registry.js';
import {
  type DeliveryAdapterRef,
  DeliveryJobEntity,
  DeliveryStatus,
  FINISHED_DELIVERY_STATUSES,
} from './delivery-job.entity.js';
import { type DeliveryListFilter, DeliveryJobRepository } from './delivery-job.repository.js';

export const MAX_DELIVERY_PROMPT = 20_000;
const CANCEL_SETTLE_MS = 3_000;

export interface CreateDeliveryInput {
  /** Name of a registered backend: `http`, `cli` or `sdnext`. */
  mode: string;
  prompt?: string;
  negativePrompt?: string;
  /** Instead of `prompt`: a composition spec, composed now; its prompt and negative prompt are delivered. */
  composition?: ComposeRequest;
  /** The backend's parameters; each backend checks its own. */
  params?: Record<string, unknown>;
}

@Injectable()
export class DeliveryService {
  constructor(
    private readonly repository: DeliveryJobRepository,
    private readonly backends: DeliveryBackendRegistry,
    private readonly jobs: JobQueue,
    private readonly bus: EventBus,
    private readonly metrics: MetricsService,
    private readonly composition: CompositionService,
  ) {}

  backendInfo(): DeliveryBackendInfo[] {
    return this.backends.all().map((b) => b.info());
  }

  /**
   * Checks everything (mode, prompt, the caller's role for the backend, the backend's parameters and allow-list),
   * then stores the delivery and queues it. Nothing is stored or run when a check fails.
   */
  async create(input: CreateDeliveryInput, principal: Principal): Promise<DeliveryJobEntity> {
    const backend = this.backends.get(input.mode);
    if (!backend) {
      throw InvalidInputError.field(
        'mode',
        `must be one of ${this.backends.names().join(', ')}`,
        'unknown_delivery_mode',
      );
    }
    const params = backend.validate(input.params ?? {}, principal);
    if (input.composition !== undefined && input.prompt !== undefined) {
      throw InvalidInputError.field('composition', 'give either prompt or composition, not both', 'invalid_delivery');
    }
    let negativePrompt = input.negativePrompt;
    let prompt = typeof input.prompt === 'string' ? input.prompt : '';
    let adaptersUsed: DeliveryAdapterRef[] | null = null;
    if (input.composition !== undefined) {
      const composed = await this.composition.compose(input.composition);
      prompt = composed.prompt;
      adaptersUsed = usedAdaptersOf(composed);
      negativePrompt ??= composed.negativePrompt || undefined;
    }
    const problems: FieldProblem[] = [];
    if (prompt.trim() === '') problems.push({ field: 'prompt', message: 'is required (or a composition spec)' });
    else if (prompt.length > MAX_DELIVERY_PROMPT)
      problems.push({ field: 'prompt', message: `must be at most ${MAX_DELIVERY_PROMPT} characters` });
    if (
      negativePrompt !== undefined &&
      (typeof negativePrompt !== 'string' || negativePrompt.length > MAX_DELIVERY_PROMPT)
    ) {
      problems.push({
        field: 'negativePrompt',
        message: `must be a string of at most ${MAX_DELIVERY_PROMPT} characters`,
      });
    }
    if (problems.length === 0) problems.push(...(backend.textProblems?.(params, prompt, negativePrompt ?? '') ?? []));
    if (problems.length > 0) {
      throw new InvalidInputError(
        'invalid_delivery',
        problems.map((p) => `${p.field}: ${p.message}`).join('; '),
        problems,
      );
    }
    const now = new Date();
    const job = new DeliveryJobEntity();
    Object.assign(job, {
      id: randomUUID(),
      mode: backend.name,
      prompt,
      negativePrompt: negativePrompt || null,
      params,
      status: DeliveryStatus.Queued,
      result: null,
      error: null,
      attempts: 0,
      rating: null,
      favorite: false,
      generationJobId: null,
      adaptersUsed,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      updatedAt: now,
    } satisfies DeliveryJobEntity);
    await this.repository.insert(job);
    try {
      await this.jobs.enqueue(JobName.Delivery, { jobId: job.id }, { jobId: job.id });
    } catch (error) {
      await this.repository.finish(job.id, DeliveryStatus.Failed, { error: `could not be queued: ${String(error)}` });
      throw error;
    }
    this.bus.publish('delivery.updated', { jobId: job.id, status: DeliveryStatus.Queued, error: null });
    return job;
  }

  /** The least role that may cancel this delivery: the one that may create deliveries of its backend. */
  async roleToCancel(id: string): Promise<Role> {
    return this.roleToCancelJob(await this.get(id));
  }

  private roleToCancelJob(job: DeliveryJobEntity): Role {
    return this.backends.get(job.mode)?.info().requiredRole ?? Role.Admin;
  }

  private assertMayCancel(job: DeliveryJobEntity, principal: Principal): void {
    const required = this.roleToCancelJob(job);
    if (!roleSatisfies(principal.role, required)) {
      throw new ForbiddenError(
        'delivery_cancel_forbidden',
        `Cancelling a ${job.mode} delivery needs the ${required} role`,
      );
    }
  }

  async get(id: string): Promise<DeliveryJobEntity> {
    const job = await this.repository.findById(id);
    if (!job) throw new NotFoundError('Delivery', id, 'delivery_not_found');
    return job;
  }

  list(filter: DeliveryListFilter): Promise<{ items: DeliveryJobEntity[]; total: number }> {
    return this.repository.list(filter);
  }

  async patch(id: string, fields: { rating?: number | null; favorite?: boolean }): Promise<DeliveryJobEntity> {
    if (
      fields.rating !== undefined &&
      fields.rating !== null &&
      (!Number.isInteger(fields.rating) || fields.rating < 0 || fields.rating > 5)
    ) {
      throw InvalidInputError.field('rating', 'must be an integer from 0 to 5, or null');
    }
    if (!(await this.repository.patch(id, fields))) throw new NotFoundError('Delivery', id, 'delivery_not_found');
    return this.get(id);
  }

  /**
   * A queued delivery is removed and ends cancelled; a running one is signalled (its HTTP request is dropped, its
   * program's process group killed, its generation cancelled) and ends cancelled. A finished one is a conflict.
   * Waits briefly for the outcome and returns the delivery as it then is.
   */
  async cancel(id: string, principal: Principal): Promise<DeliveryJobEntity> {
    const job = await this.get(id);
    this.assertMayCancel(job, principal);
    if (FINISHED_DELIVERY_STATUSES.includes(job.status)) {
      throw new ConflictError('delivery_finished', `Delivery ${id} has already ended (${job.status})`);
    }
    const outcome = await this.jobs.cancel(JobName.Delivery, id);
    if (outcome !== CancelOutcome.Signalled) {
      // Not running anywhere: nobody else will end the row.
      const reason = job.status === DeliveryStatus.Queued ? 'cancelled before it started' : 'cancelled';
      if (await this.repository.finish(id, DeliveryStatus.Cancelled, { error: reason, result: job.result })) {
        this.bus.publish('delivery.updated', { jobId: id, status: DeliveryStatus.Cancelled, error: reason });
        this.metrics.deliveries.inc({ backend: job.mode, outcome: DeliveryStatus.Cancelled });
      }
    }
    const deadline = Date.now() + CANCEL_SETTLE_MS;
    for (;;) {
      const now = await this.get(id);
      if (FINISHED_DELIVERY_STATUSES.includes(now.status) || Date.now() >= deadline) return now;
      await sleep(25);
    }
  }
}
