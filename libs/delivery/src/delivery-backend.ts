import type { FieldProblem, Principal, Role } from '@app/core';
import type { DeliveryJobEntity, DeliveryResult } from './delivery-job.entity.js';

/** What a backend needs while it delivers one job. */
export interface DeliveryContext {
  /** Aborted on cancel: the backend stops what it runs and throws {@link DeliveryCancelledError}. */
  signal: AbortSignal;
  /** 1 on the first try. */
  attempt: number;
}

/** What `GET /deliveries/backends` shows about a backend. */
export interface DeliveryBackendInfo {
  name: string;
  /** What it may reach: URL prefixes, executables, SD.Next backend ids. */
  allowList: string[];
  /** The least role that may create deliveries with it. */
  requiredRole: Role;
}

/**
 * One way to hand a prompt over. A new backend is one class implementing this, listed in `DELIVERY_BACKEND_TYPES`.
 */
export interface DeliveryBackend {
  readonly name: string;
  /**
   * Whether a job found `running` at start (its process died mid-delivery) may run again: true only when a second
   * run cannot do the work twice (an idempotency key, or a generation that is awaited rather than re-created).
   */
  readonly safeToRerun: boolean;
  info(): DeliveryBackendInfo;
  /**
   * Checks the caller's role and the parameters before anything is stored or runs. Throws `InvalidInputError`
   * (400, fields named `params.<field>`) or `ForbiddenError` (403). Returns the parameters to store.
   */
  validate(params: Record<string, unknown>, principal: Principal): Record<string, unknown>;
  /** Problems of the final texts with these (validated) parameters, named by field (`prompt`, `negativePrompt`). */
  textProblems?(params: Record<string, unknown>, prompt: string, negativePrompt: string): FieldProblem[];
  /** Runs the delivery once. Throws {@link DeliveryAttemptError} on failure, {@link DeliveryCancelledError} on cancel. */
  deliver(job: DeliveryJobEntity, context: DeliveryContext): Promise<DeliveryResult>;
}

/** A failed attempt; `retryable` when another attempt may succeed (5xx, connection errors, timeouts of idempotent sends). */
export class DeliveryAttemptError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly result: DeliveryResult | null = null,
  ) {
    super(message);
    this.name = 'DeliveryAttemptError';
  }
}

export class DeliveryCancelledError extends Error {
  constructor(
    message = 'cancelled',
    readonly result: DeliveryResult | null = null,
  ) {
    super(message);
    this.name = 'DeliveryCancelledError';
  }
}
