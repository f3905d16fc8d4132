import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { CivitaiRunCounts } from '@app/core';
import { DataSource, In, LessThan, MoreThan, type Repository } from 'typeorm';
import {
  ACTIVE_CIVITAI_RUN_STATUSES,
  type CivitaiRunFailure,
  CivitaiRunEntity,
  type CivitaiRunKind,
  CivitaiRunStatus,
} from './civitai-runs.entity.js';

@Injectable()
export class CivitaiRunRepository {
  private readonly repo: Repository<CivitaiRunEntity>;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.repo = dataSource.getRepository(CivitaiRunEntity);
  }

  async create(run: CivitaiRunEntity): Promise<CivitaiRunEntity> {
    await this.repo.insert(run);
    return run;
  }

  findById(id: string): Promise<CivitaiRunEntity | null> {
    return this.repo.findOneBy({ id });
  }

  list(limit: number, kind?: CivitaiRunKind): Promise<CivitaiRunEntity[]> {
    return this.repo.find({
      where: kind ? { kind } : {},
      order: { createdAt: 'DESC', id: 'ASC' },
      take: limit,
    });
  }

  /** The run that is queued or running (one at a time, whatever its kind), if any. */
  findActive(): Promise<CivitaiRunEntity | null> {
    return this.repo.findOne({
      where: { status: In([...ACTIVE_CIVITAI_RUN_STATUSES]) },
      order: { createdAt: 'ASC' },
    });
  }

  /** Ids of runs `queued` since before `olderThan`, by id after `afterId`: the reconciler re-enqueues them. */
  async findQueuedIds(olderThan: Date, afterId: string | undefined, limit: number): Promise<string[]> {
    const rows = await this.repo.find({
      select: { id: true },
      where: {
        status: CivitaiRunStatus.Queued,
        createdAt: LessThan(olderThan),
        ...(afterId === undefined ? {} : { id: MoreThan(afterId) }),
      },
      order: { id: 'ASC' },
      take: limit,
    });
    return rows.map((r) => r.id);
  }

  /** Marks a queued (or interrupted running) run as running; false when it has finished meanwhile. */
  async markRunning(id: string): Promise<boolean> {
    const result = await this.repo.update(
      { id, status: In([...ACTIVE_CIVITAI_RUN_STATUSES]) },
      { status: CivitaiRunStatus.Running, startedAt: new Date(), error: null },
    );
    return result.affected === 1;
  }

  /** The adapters a run does, fixed the first time it starts. */
  async saveTargets(id: string, targets: string[], counts: CivitaiRunCounts): Promise<void> {
    await this.repo.update({ id }, { targets, counts });
  }

  async saveProgress(id: string, counts: CivitaiRunCounts, failures: CivitaiRunFailure[]): Promise<void> {
    await this.repo.update({ id, status: CivitaiRunStatus.Running }, { counts, failures });
  }

  /** Ends a run that has not ended yet; false when it had. */
  async finish(
    id: string,
    fields: {
      status: CivitaiRunStatus;
      counts?: CivitaiRunCounts;
      failures?: CivitaiRunFailure[];
      error?: string | null;
    },
  ): Promise<boolean> {
    const result = await this.repo.update(
      { id, status: In([...ACTIVE_CIVITAI_RUN_STATUSES]) },
      { ...fields, error: fields.error ?? null, finishedAt: new Date() },
    );
    return result.affected === 1;
  }
}
