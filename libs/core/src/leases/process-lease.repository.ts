import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, LessThan, type Repository } from 'typeorm';
import { ProcessLeaseEntity } from './process-lease.entity.js';

/** A free lease has an `expires_at` in the past; this is the value a release writes. */
const FREE = new Date(0);

@Injectable()
export class ProcessLeaseRepository {
  private readonly repo: Repository<ProcessLeaseEntity>;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.repo = dataSource.getRepository(ProcessLeaseEntity);
  }

  /** The lease's row, created free if missing (INSERT … ON CONFLICT DO NOTHING / INSERT OR IGNORE). */
  async ensure(name: string): Promise<void> {
    await this.repo.createQueryBuilder().insert().values({ name, holder: null, expiresAt: FREE }).orIgnore().execute();
  }

  /** Takes the lease if it has expired: one conditional UPDATE, so two takers never both win. */
  async tryAcquire(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const result = await this.repo.update(
      { name, expiresAt: LessThan(new Date(now)) },
      { holder, expiresAt: new Date(now + ttlMs) },
    );
    return result.affected === 1;
  }

  /** Extends a lease this holder has; false when it was lost (expired and taken over). */
  async renew(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const result = await this.repo.update({ name, holder }, { expiresAt: new Date(Date.now() + ttlMs) });
    return result.affected === 1;
  }

  async release(name: string, holder: string): Promise<void> {
    await this.repo.update({ name, holder }, { holder: null, expiresAt: FREE });
  }

  /** Who holds the lease now, or null when it is free. */
  async holderOf(name: string): Promise<string | null> {
    const row = await this.repo.findOneBy({ name });
    return row && row.expiresAt.getTime() > Date.now() ? row.holder : null;
  }
}
