import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { JobRowRepository, UNFINISHED_JOB_ROW_STATUSES } from '@app/core';
import { DataSource, In, IsNull } from 'typeorm';
import {
  type GenerationImageRef,
  GenerationJobEntity,
  GenerationStatus,
  FINISHED_GENERATION_STATUSES,
  GenerationMode,
} from './generation-job.entity.js';

export interface GenerationProgressFields {
  progress: number;
  step: number;
  steps: number;
  etaSeconds: number | null;
}

export interface GenerationFinishFields {
  error?: string | null;
  images?: GenerationImageRef[] | null;
  info?: object | null;
  seed?: number | null;
}

@Injectable()
export class GenerationJobRepository extends JobRowRepository<GenerationJobEntity> {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource, GenerationJobEntity);
  }

  list(filter: { status?: GenerationStatus; limit: number; offset: number }): Promise<{
    items: GenerationJobEntity[];
    total: number;
  }> {
    return this.pageNewestFirst(filter.status ? { status: filter.status } : {}, filter);
  }

  /**
   * Ids of queue-mode jobs waiting since before `olderThan`: the reconciler re-enqueues them. Sync-mode rows wait
   * inside an API request, never in the queue, and are left out.
   */
  findQueuedIds(olderThan: Date, afterId: string | undefined, limit: number): Promise<string[]> {
    return this.queuedIdsBefore({ mode: GenerationMode.Queued }, olderThan, afterId, limit);
  }

  /** Queued → running on `backendId`, stamping the moment txt2img is about to be sent. False when it was cancelled. */
  async markRunning(id: string, backendId: string, attempts: number, now: Date): Promise<boolean> {
    const result = await this.repo.update(
      { id, status: GenerationStatus.Queued, cancelRequestedAt: IsNull() },
      {
        status: GenerationStatus.Running,
        backendId,
        attempts,
        requestSentAt: now,
        startedAt: now,
        progress: 0,
        step: 0,
        etaSeconds: null,
        error: null,
        updatedAt: now,
      },
    );
    return result.affected === 1;
  }

  async setProgress(id: string, fields: GenerationProgressFields): Promise<void> {
    await this.repo.update({ id, status: GenerationStatus.Running }, { ...fields, updatedAt: new Date() });
  }

  /** Back to the queue after a failure that provably never reached SD.Next. */
  async requeue(id: string, error: string): Promise<void> {
    await this.repo.update(
      { id, status: In(UNFINISHED_JOB_ROW_STATUSES) },
      { status: GenerationStatus.Queued, backendId: null, requestSentAt: null, error, updatedAt: new Date() },
    );
  }

  /** Ends an unfinished job; false when it had already ended (the first outcome wins). */
  async finish(id: string, status: GenerationStatus, fields: GenerationFinishFields): Promise<boolean> {
    if (!FINISHED_GENERATION_STATUSES.includes(status)) throw new Error(`${status} is not a final status`);
    const now = new Date();
    const result = await this.repo.update(
      { id, status: In(UNFINISHED_JOB_ROW_STATUSES) },
      {
        status,
        error: fields.error ?? null,
        images: fields.images ?? null,
        info: fields.info ?? null,
        seed: fields.seed ?? null,
        progress: status === GenerationStatus.Succeeded ? 1 : undefined,
        etaSeconds: status === GenerationStatus.Succeeded ? 0 : undefined,
        finishedAt: now,
        updatedAt: now,
      },
    );
    return result.affected === 1;
  }

  /** Flags an unfinished job for cancellation; false when it had already ended. */
  async requestCancel(id: string): Promise<boolean> {
    const now = new Date();
    const result = await this.repo.update(
      { id, status: In(UNFINISHED_JOB_ROW_STATUSES) },
      { cancelRequestedAt: now, updatedAt: now },
    );
    return result.affected === 1;
  }

  async isCancelRequested(id: string): Promise<boolean> {
    const row = await this.repo.findOne({ where: { id }, select: { id: true, cancelRequestedAt: true } });
    return row?.cancelRequestedAt != null;
  }
}
