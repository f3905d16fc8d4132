import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { RowSql } from '@app/core';
import { DataSource, type Repository } from 'typeorm';
import { BackendLeaseEntity } from './backend-lease.entity.js';

/** A free lease has an `expires_at` in the past; this is the value a release writes. */
const FREE = new Date(0);

@Injectable()
export class BackendLeaseRepository {
  private readonly repo: Repository<BackendLeaseEntity>;
  /** Taking and releasing, once each a job, written out: see RowSql. */
  private readonly rows: RowSql<BackendLeaseEntity>;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.repo = dataSource.getRepository(BackendLeaseEntity);
    this.rows = new RowSql(dataSource, BackendLeaseEntity);
  }

  /** One row per backend, created free if missing (INSERT … ON CONFLICT DO NOTHING / INSERT OR IGNORE). */
  async ensure(backendIds: readonly string[]): Promise<void> {
    if (backendIds.length === 0) return;
    await this.repo
      .createQueryBuilder()
      .insert()
      .values(backendIds.map((backendId) => ({ backendId, jobId: null, holder: null, expiresAt: FREE })))
      .orIgnore()
      .execute();
  }

  /** Takes the lease if it is free or expired: one conditional UPDATE, so two takers never both win. */
  async tryAcquire(backendId: string, jobId: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const { affected } = await this.rows.run(
      'UPDATE {table} SET {jobId} = ?, {holder} = ?, {expiresAt} = ? WHERE {backendId} = ? AND {expiresAt} < ?',
      [
        jobId,
        holder,
        this.rows.value('expiresAt', new Date(now + ttlMs)),
        backendId,
        this.rows.value('expiresAt', new Date(now)),
      ],
    );
    return affected === 1;
  }

  /** Extends a lease this job holds; false when it was lost (expired and taken over). */
  async renew(backendId: string, jobId: string, ttlMs: number): Promise<boolean> {
    const result = await this.repo.update({ backendId, jobId }, { expiresAt: new Date(Date.now() + ttlMs) });
    return result.affected === 1;
  }

  async release(backendId: string, jobId: string): Promise<void> {
    await this.rows.run(
      'UPDATE {table} SET {jobId} = NULL, {holder} = NULL, {expiresAt} = ? WHERE {backendId} = ? AND {jobId} = ?',
      [this.rows.value('expiresAt', FREE), backendId, jobId],
    );
  }

  /** Backends whose lease is held right now, with the holding job. */
  async held(): Promise<Map<string, string | null>> {
    const rows = await this.repo.find({ where: {} });
    const now = Date.now();
    return new Map(rows.filter((r) => r.expiresAt.getTime() > now).map((r) => [r.backendId, r.jobId]));
  }
}
