import { Injectable, Logger } from '@nestjs/common';
import {
  type DeliveryPayload,
  JobCancelledError,
  type JobContext,
  type JobHandler,
  JobHandlerFor,
  JobName,
  MetricsService,
  UnrecoverableJobError,
  errorMessage,
} from '@app/core';
import { DeliveryAttemptError, DeliveryCancelledError } from './delivery-backend.js';
import { DeliveryBackendRegistry } from './delivery-backend.registry.js';
import {
  type DeliveryJobEntity,
  type DeliveryResult,
  DeliveryStatus,
  FINISHED_DELIVERY_STATUSES,
} from './delivery-job.entity.js';
import { DeliveryJobRepository } from './delivery-job.repository.js';

/** Metric outcome besides the final statuses: an attempt that failed and will run again. */
const RETRIED = 'retried';

/**
 * Runs one delivery row through its backend. Idempotent: a finished row is left alone, and a row found `running`
 * (its process died mid-delivery) runs again only on a backend that cannot do the work twice. Every status change
 * is a `delivery.updated` event; retryable failures throw so that the queue retries with backoff, the last one
 * records the reason.
 */
@Injectable()
@JobHandlerFor(JobName.Delivery)
export class DeliveryJobHandler implements JobHandler<JobName.Delivery> {
  private readonly logger = new Logger(DeliveryJobHandler.name);

  constructor(
    private readonly repository: DeliveryJobRepository,
    private readonly backends: DeliveryBackendRegistry,
    private readonly metrics: MetricsService,
  ) {}

  async handle(payload: DeliveryPayload, context: JobContext): Promise<{ status: DeliveryStatus }> {
    const job = await this.repository.findById(payload.jobId);
    if (!job) throw new UnrecoverableJobError(`delivery ${payload.jobId} does not exist`);
    if (FINISHED_DELIVERY_STATUSES.includes(job.status)) return { status: job.status };
    const backend = this.backends.get(job.mode);
    if (!backend) return this.fail(job, context, `no delivery backend is named "${job.mode}"`, null);
    if (context.signal.aborted) return this.cancelled(job, context, 'cancelled before it started', null);
    if (job.status === DeliveryStatus.Running && !backend.safeToRerun) {
      return this.fail(
        job,
        context,
        `the process running this delivery stopped while the ${job.mode} backend ran it; it is not run again, to avoid doing it twice`,
        job.result,
      );
    }
    if (!(await this.repository.markRunning(job.id, context.attempt))) {
      const now = await this.repository.findById(job.id);
      return { status: now?.status ?? DeliveryStatus.Cancelled };
    }
    await context.emit('delivery.updated', { jobId: job.id, status: DeliveryStatus.Running, error: null });

    let result: DeliveryResult;
    try {
      result = await backend.deliver(
        { ...job, status: DeliveryStatus.Running, attempts: context.attempt },
        {
          signal: context.signal,
          attempt: context.attempt,
        },
      );
    } catch (error) {
      if (error instanceof DeliveryCancelledError || context.signal.aborted) {
        const partial = error instanceof DeliveryCancelledError ? error.result : null;
        return this.cancelled(job, context, error instanceof Error ? error.message : 'cancelled', partial);
      }
      const failure =
        error instanceof DeliveryAttemptError
          ? error
          : new DeliveryAttemptError(errorMessage(error), backend.safeToRerun);
      if (failure.retryable && context.attempt < context.maxAttempts) {
        if (await this.repository.markRetrying(job.id, failure.message, failure.result)) {
          await context.emit('delivery.updated', {
            jobId: job.id,
            status: DeliveryStatus.Queued,
            error: failure.message,
          });
        }
        this.metrics.deliveries.inc({ backend: job.mode, outcome: RETRIED });
        throw new Error(failure.message, { cause: error });
      }
      return this.fail(job, context, failure.message, failure.result);
    }
    if (await this.repository.finish(job.id, DeliveryStatus.Succeeded, { result })) {
      this.metrics.deliveries.inc({ backend: job.mode, outcome: DeliveryStatus.Succeeded });
      await context.emit('delivery.updated', { jobId: job.id, status: DeliveryStatus.Succeeded, error: null });
    }
    return { status: DeliveryStatus.Succeeded };
  }

  private async fail(
    job: DeliveryJobEntity,
    context: JobContext,
    reason: string,
    result: object | null,
  ): Promise<never> {
    if (await this.repository.finish(job.id, DeliveryStatus.Failed, { error: reason, result })) {
      this.metrics.deliveries.inc({ backend: job.mode, outcome: DeliveryStatus.Failed });
      this.logger.warn(`Delivery ${job.id} (${job.mode}) failed: ${reason}`);
      await context.emit('delivery.updated', { jobId: job.id, status: DeliveryStatus.Failed, error: reason });
    }
    throw new UnrecoverableJobError(reason);
  }

  private async cancelled(
    job: DeliveryJobEntity,
    context: JobContext,
    reason: string,
    result: object | null,
  ): Promise<never> {
    if (await this.repository.finish(job.id, DeliveryStatus.Cancelled, { error: reason, result })) {
      this.metrics.deliveries.inc({ backend: job.mode, outcome: DeliveryStatus.Cancelled });
      await context.emit('delivery.updated', { jobId: job.id, status: DeliveryStatus.Cancelled, error: reason });
    }
    throw new JobCancelledError(reason);
  }
}
