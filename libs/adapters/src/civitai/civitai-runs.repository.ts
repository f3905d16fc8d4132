import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type CivitaiRunCounts, RunRowRepository } from '@app/core';
import { DataSource, In } from 'typeorm';
import {
  ACTIVE_CIVITAI_RUN_STATUSES,
  type CivitaiRunFailure,
  CivitaiRunEntity,
  type CivitaiRunKind,
  CivitaiRunStatus,
} from './civitai-runs.entity.js';

@Injectable()
export class CivitaiRunRepository extends RunRowRepository<CivitaiRunEntity> {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource, CivitaiRunEntity, {
      queued: CivitaiRunStatus.Queued,
      running: CivitaiRunStatus.Running,
      active: ACTIVE_CIVITAI_RUN_STATUSES,
    });
  }

  list(limit: number, kind?: CivitaiRunKind): Promise<CivitaiRunEntity[]> {
    return this.repo.find({
      where: kind ? { kind } : {},
      order: { createdAt: 'DESC', id: 'ASC' },
      take: limit,
    });
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
