import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { JobRowRepository, UNFINISHED_JOB_ROW_STATUSES } from '@app/core';
import { DataSource, In } from 'typeorm';
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
    const at = this.rows.value('startedAt', now);
    const { affected } = await this.rows.run(
      'UPDATE {table} SET {status} = ?, {backendId} = ?, {attempts} = ?, {requestSentAt} = ?, {startedAt} = ?, ' +
        '{progress} = 0, {step} = 0, {etaSeconds} = NULL, {error} = NULL, {updatedAt} = ? ' +
        'WHERE {id} = ? AND {status} = ? AND {cancelRequestedAt} IS NULL',
      [GenerationStatus.Running, backendId, attempts, at, at, at, id, GenerationStatus.Queued],
    );
    return affected === 1;
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

  /**
   * Ends an unfinished job: the row as it ended (read back by the same statement, so the runner needs no second
   * read), or null when it had already ended or is gone (the first outcome wins).
   */
  async finish(
    id: string,
    status: GenerationStatus,
    fields: GenerationFinishFields,
  ): Promise<GenerationJobEntity | null> {
    if (!FINISHED_GENERATION_STATUSES.includes(status)) throw new Error(`${status} is not a final status`);
    const now = this.rows.value('finishedAt', new Date());
    const succeeded = status === GenerationStatus.Succeeded ? ', {progress} = 1, {etaSeconds} = 0' : '';
    return this.rows.one(
      'UPDATE {table} SET {status} = ?, {error} = ?, {images} = ?, {info} = ?, {seed} = ?, {finishedAt} = ?, ' +
        `{updatedAt} = ?${succeeded} WHERE {id} = ? AND {status} IN (${UNFINISHED_JOB_ROW_STATUSES.map(() => '?').join(', ')}) ` +
        'RETURNING {columns}',
      [
        status,
        fields.error ?? null,
        this.rows.value('images', fields.images ?? null),
        this.rows.value('info', fields.info ?? null),
        this.rows.value('seed', fields.seed ?? null),
        now,
        now,
        id,
        ...UNFINISHED_JOB_ROW_STATUSES,
      ],
    );
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
    const { rows } = await this.rows.run('SELECT {cancelRequestedAt} AS at FROM {table} WHERE {id} = ?', [id]);
    return rows.length > 0 && rows[0].at != null;
  }
}
