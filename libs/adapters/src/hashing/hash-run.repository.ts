import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type HashRunCounts, RunRowRepository } from '@app/core';
import { DataSource, In } from 'typeorm';
import type { ImportFailure } from '../import-runs/import-run.entity.js';
import { ACTIVE_HASH_RUN_STATUSES, HashRunEntity, HashRunStatus } from './hash-run.entity.js';

@Injectable()
export class HashRunRepository extends RunRowRepository<HashRunEntity> {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource, HashRunEntity, {
      queued: HashRunStatus.Queued,
      running: HashRunStatus.Running,
      active: ACTIVE_HASH_RUN_STATUSES,
    });
  }

  list(limit: number): Promise<HashRunEntity[]> {
    return this.repo.find({ order: { createdAt: 'DESC' }, take: limit });
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
