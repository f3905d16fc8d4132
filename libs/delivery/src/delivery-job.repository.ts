import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { JobRowRepository, UNFINISHED_JOB_ROW_STATUSES } from '@app/core';
import { DataSource, type FindOptionsWhere, In } from 'typeorm';
import { DeliveryJobEntity, DeliveryStatus, FINISHED_DELIVERY_STATUSES } from './delivery-job.entity.js';

export interface DeliveryListFilter {
  status?: DeliveryStatus;
  mode?: string;
  favorite?: boolean;
  limit: number;
  offset: number;
}

@Injectable()
export class DeliveryJobRepository extends JobRowRepository<DeliveryJobEntity> {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource, DeliveryJobEntity);
  }

  list(filter: DeliveryListFilter): Promise<{ items: DeliveryJobEntity[]; total: number }> {
    const where: FindOptionsWhere<DeliveryJobEntity> = {};
    if (filter.status !== undefined) where.status = filter.status;
    if (filter.mode !== undefined) where.mode = filter.mode;
    if (filter.favorite !== undefined) where.favorite = filter.favorite;
    return this.pageNewestFirst(where, filter);
  }

  /** Ids of deliveries waiting in the queue since before `olderThan`: the reconciler re-enqueues them. */
  findQueuedIds(olderThan: Date, afterId: string | undefined, limit: number): Promise<string[]> {
    return this.queuedIdsBefore({}, olderThan, afterId, limit);
  }

  /** Queued (or running, after a crash) → running, counting the attempt. False when it had already ended. */
  async markRunning(id: string, attempts: number): Promise<boolean> {
    const now = new Date();
    const result = await this.repo.update(
      { id, status: In(UNFINISHED_JOB_ROW_STATUSES) },
      { status: DeliveryStatus.Running, attempts, startedAt: now, updatedAt: now },
    );
    return result.affected === 1;
  }

  /** Back to queued while the job queue waits to retry it, keeping why this attempt failed. */
  async markRetrying(id: string, error: string, result: object | null): Promise<boolean> {
    const outcome = await this.repo.update(
      { id, status: DeliveryStatus.Running },
      { status: DeliveryStatus.Queued, error, result, updatedAt: new Date() },
    );
    return outcome.affected === 1;
  }

  async setGenerationJobId(id: string, generationJobId: string): Promise<void> {
    await this.repo.update({ id }, { generationJobId, updatedAt: new Date() });
  }

  /** Ends an unfinished job; false when it had already ended (the first outcome wins). */
  async finish(
    id: string,
    status: DeliveryStatus,
    fields: { result?: object | null; error?: string | null },
  ): Promise<boolean> {
    if (!FINISHED_DELIVERY_STATUSES.includes(status)) throw new Error(`${status} is not a final status`);
    const now = new Date();
    const result = await this.repo.update(
      { id, status: In(UNFINISHED_JOB_ROW_STATUSES) },
      { status, result: fields.result ?? null, error: fields.error ?? null, finishedAt: now, updatedAt: now },
    );
    return result.affected === 1;
  }

  async patch(id: string, fields: { rating?: number | null; favorite?: boolean }): Promise<boolean> {
    const result = await this.repo.update({ id }, { ...fields, updatedAt: new Date() });
    return result.affected === 1;
  }
}
