import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { UNFINISHED_JOB_ROW_STATUSES } from '@app/core';
import { DataSource, type FindOptionsWhere, In, LessThan, MoreThan, type Repository } from 'typeorm';
import { DeliveryJobEntity, DeliveryStatus, FINISHED_DELIVERY_STATUSES } from './delivery-job.entity.js';

export interface DeliveryListFilter {
  status?: DeliveryStatus;
  mode?: string;
  favorite?: boolean;
  limit: number;
  offset: number;
}

@Injectable()
export class DeliveryJobRepository {
  private readonly repo: Repository<DeliveryJobEntity>;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.repo = dataSource.getRepository(DeliveryJobEntity);
  }

  async insert(job: DeliveryJobEntity): Promise<DeliveryJobEntity> {
    await this.repo.insert(job);
    return job;
  }

  findById(id: string): Promise<DeliveryJobEntity | null> {
    return this.repo.findOneBy({ id });
  }

  async list(filter: DeliveryListFilter): Promise<{ items: DeliveryJobEntity[]; total: number }> {
    const where: FindOptionsWhere<DeliveryJobEntity> = {};
    if (filter.status !== undefined) where.status = filter.status;
    if (filter.mode !== undefined) where.mode = filter.mode;
    if (filter.favorite !== undefined) where.favorite = filter.favorite;
    const [items, total] = await this.repo.findAndCount({
      where,
      order: { createdAt: 'DESC', id: 'ASC' },
      take: filter.limit,
      skip: filter.offset,
    });
    return { items, total };
  }

  /** Ids of deliveries `queued` (last changed) before `olderThan`, by id, after `afterId`: the reconciler re-enqueues them. */
  async findQueuedIds(olderThan: Date, afterId: string | undefined, limit: number): Promise<string[]> {
    const rows = await this.repo.find({
      select: { id: true },
      where: {
        status: DeliveryStatus.Queued,
        updatedAt: LessThan(olderThan),
        ...(afterId === undefined ? {} : { id: MoreThan(afterId) }),
      },
      order: { id: 'ASC' },
      take: limit,
    });
    return rows.map((r) => r.id);
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
