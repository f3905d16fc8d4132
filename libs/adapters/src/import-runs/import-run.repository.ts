import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { ImportCounts } from '@app/core';
import { DataSource, LessThan, MoreThan, type Repository } from 'typeorm';
import { type ImportFailure, ImportRunEntity, ImportRunStatus } from './import-run.entity.js';

@Injectable()
export class ImportRunRepository {
  private readonly repo: Repository<ImportRunEntity>;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.repo = dataSource.getRepository(ImportRunEntity);
  }

  async create(run: ImportRunEntity): Promise<ImportRunEntity> {
    await this.repo.insert(run);
    return run;
  }

  findById(id: string): Promise<ImportRunEntity | null> {
    return this.repo.findOneBy({ id });
  }

  list(limit: number): Promise<ImportRunEntity[]> {
    return this.repo.find({ order: { createdAt: 'DESC' }, take: limit });
  }

  /** Runs `queued` since before `olderThan`, by id, after `afterId`: the reconciler re-enqueues them. */
  findQueued(
    olderThan: Date,
    afterId: string | undefined,
    limit: number,
  ): Promise<Pick<ImportRunEntity, 'id' | 'roots' | 'options'>[]> {
    return this.repo.find({
      select: { id: true, roots: true, options: true },
      where: {
        status: ImportRunStatus.Queued,
        createdAt: LessThan(olderThan),
        ...(afterId === undefined ? {} : { id: MoreThan(afterId) }),
      },
      order: { id: 'ASC' },
      take: limit,
    });
  }

  async markRunning(id: string): Promise<void> {
    await this.repo.update({ id }, { status: ImportRunStatus.Running, startedAt: new Date(), error: null });
  }

  /** A running run's counts; a run that has finished keeps its final ones. */
  async saveProgress(id: string, counts: ImportCounts): Promise<void> {
    await this.repo.update({ id, status: ImportRunStatus.Running }, { counts });
  }

  async finish(
    id: string,
    fields: {
      status: ImportRunStatus;
      counts: ImportCounts;
      failures: ImportFailure[];
      failureCount: number;
      error?: string | null;
    },
  ): Promise<void> {
    await this.repo.update({ id }, { ...fields, error: fields.error ?? null, finishedAt: new Date() });
  }
}
