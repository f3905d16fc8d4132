import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { HashRunCounts } from '@app/core';
import { DataSource, In, LessThan, MoreThan, type Repository } from 'typeorm';
import type { ImportFailure } from '../import-runs/import-run.entity.js';
import { ACTIVE_HASH_RUN_STATUSES, HashRunEntity, HashRunStatus } from './hash-run.entity.js';

@Injectable()
export class HashRunRepository {
  private readonly repo: Repository<HashRunEntity>;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.repo = dataSource.getRepository(HashRunEntity);
  }

  async create(run: HashRunEntity): Promise<HashRunEntity> {
    await this.repo.insert(run);
    return run;
  }

  findById(id: string): Promise<HashRunEntity | null> {
    return this.repo.findOneBy({ id });
  }

  list(limit: number): Promise<HashRunEntity[]> {
    return this.repo.find({ order: { createdAt: 'DESC' }, take: limit });
  }

  /** The run that is queued or running, oldest first, if any. */
  findActive(): Promise<HashRunEntity | null> {
    return this.repo.findOne({
      where: { status: In([...ACTIVE_HASH_RUN_STATUSES]) },
      order: { createdAt: 'ASC' },
    });
  }

  /** Ids of runs `queued` since before `olderThan`, by id after `afterId`: the reconciler re-enqueues them. */
  async findQueuedIds(olderThan: Date, afterId: string | undefined, limit: number): Promise<string[]> {
    const rows = await this.repo.find({
      select: { id: true },
      where: {
        status: HashRunStatus.Queued,
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
      { id, status: In([...ACTIVE_HASH_RUN_STATUSES]) },
      { status: HashRunStatus.Running, startedAt: new Date(), error: null },
    );
    return result.affected === 1;
  }

  /** A running run's counts; a finished run keeps its final ones. */
  async saveProgress(id: string, counts: HashRunCounts, failures: ImportFailure[]): Promise<void> {
    await this.repo.update({ id, status: HashRunStatus.Running }, { counts, failures });
  }

  /** Ends a run that has not ended yet; false when it had. */
  async finish(
    id: string,
    fields: { status: HashRunStatus; counts?: HashRunCounts; failures?: ImportFailure[]; error?: string | null },
  ): Promise<boolean> {
    const result = await this.repo.update(
      { id, status: In([...ACTIVE_HASH_RUN_STATUSES]) },
      { ...fields, error: fields.error ?? null, finishedAt: new Date() },
    );
    return result.affected === 1;
  }
}
