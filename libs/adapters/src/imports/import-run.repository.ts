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
  findQueued(olderThan: Date, afterId: string | undefined, limit: number): Promise<Pick<ImportRunEntity, 'id' | 'roots' | 'options'>[]> {
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

  /**
   * Keeps a running run's counts current for `GET /imports/:id`: the first offer that counts anything at once (a
   * new run's row already says zero), then at most once per `everyMs`. Saves run one at a time; `settled()` ends the saver (later offers are dropped: reads still in
   * flight when an import fails report progress after it) and waits for the last save, so none lands after
   * `finish` has written the final counts.
   */
  progressSaver(id: string, everyMs = 250): { offer(counts: ImportCounts): void; settled(): Promise<void> } {
    let last = 0;
    let closed = false;
    let saving: Promise<void> = Promise.resolve();
    return {
      offer: (counts) => {
        if (closed || Date.now() - last < everyMs || Object.values(counts).every((n) => n === 0)) return;
        last = Date.now();
        const snapshot = { ...counts };
        // Progress is best-effort: a failed save must not fail the import (the final counts are written by `finish`).
        saving = saving.then(() => this.saveProgress(id, snapshot)).catch(() => undefined);
      },
      settled: () => {
        closed = true;
        return saving;
      },
    };
  }

  async finish(
    id: string,
    fields: { status: ImportRunStatus; counts: ImportCounts; failures: ImportFailure[]; failureCount: number; error?: string | null },
  ): Promise<void> {
    await this.repo.update({ id }, { ...fields, error: fields.error ?? null, finishedAt: new Date() });
  }
}
