import {
  type DataSource,
  type EntityTarget,
  type FindOptionsOrder,
  type FindOptionsSelect,
  type FindOptionsWhere,
  LessThan,
  MoreThan,
  type Repository,
} from 'typeorm';
import { RowSql } from '../database/row-sql.js';
import { JobRowStatus, type JobRowTimestamps } from './job-row.js';

/** The columns a feature's job row (a generation, a delivery) has beyond its timestamps. */
export interface JobRow extends JobRowTimestamps {
  id: string;
  status: JobRowStatus;
  updatedAt: Date;
}

/** Reads and inserts every feature job table shares; each feature's repository adds its own transitions. */
export abstract class JobRowRepository<E extends JobRow> {
  protected readonly repo: Repository<E>;
  /** The statements a job runs several times (its row, its transitions), written out: see RowSql. */
  protected readonly rows: RowSql<E>;

  protected constructor(dataSource: DataSource, entity: EntityTarget<E>) {
    this.repo = dataSource.getRepository(entity);
    this.rows = new RowSql(dataSource, entity);
  }

  async insert(job: E): Promise<E> {
    await this.rows.insert(job);
    return job;
  }

  findById(id: string): Promise<E | null> {
    return this.rows.one('SELECT {columns} FROM {table} WHERE {id} = ?', [id]);
  }

  /** A page of rows matching `where`, newest first (id breaks ties so pages never overlap). */
  protected async pageNewestFirst(
    where: FindOptionsWhere<E>,
    page: { limit: number; offset: number },
  ): Promise<{ items: E[]; total: number }> {
    const [items, total] = await this.repo.findAndCount({
      where,
      order: { createdAt: 'DESC', id: 'ASC' } as FindOptionsOrder<E>,
      take: page.limit,
      skip: page.offset,
    });
    return { items, total };
  }

  /**
   * Ids of rows `queued` (last changed) before `olderThan` and matching `where`, by id, after `afterId`: the
   * reconciler re-enqueues them.
   */
  protected async queuedIdsBefore(
    where: FindOptionsWhere<E>,
    olderThan: Date,
    afterId: string | undefined,
    limit: number,
  ): Promise<string[]> {
    const rows = await this.repo.find({
      select: { id: true } as FindOptionsSelect<E>,
      where: {
        ...where,
        status: JobRowStatus.Queued,
        updatedAt: LessThan(olderThan),
        ...(afterId === undefined ? {} : { id: MoreThan(afterId) }),
      } as FindOptionsWhere<E>,
      order: { id: 'ASC' } as FindOptionsOrder<E>,
      take: limit,
    });
    return rows.map((r) => r.id);
  }
}
