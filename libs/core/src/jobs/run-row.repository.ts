import {
  type DataSource,
  type EntityTarget,
  type FindOptionsOrder,
  type FindOptionsSelect,
  type FindOptionsWhere,
  In,
  LessThan,
  MoreThan,
  type Repository,
} from 'typeorm';

/** A background run's row (hash runs, Civitai runs, downloads): its own status enum, started when a job takes it. */
export interface RunRow {
  id: string;
  status: string;
  createdAt: Date;
  startedAt: Date | null;
  error: string | null;
}

/** The statuses a run table uses for the transitions every run shares. */
export interface RunStatuses<S extends string> {
  queued: S;
  running: S;
  /** Queued or running: not finished. */
  active: readonly S[];
}

/** Insert, read and the reconciler's and job's transitions every run table shares; each feature adds its own. */
export abstract class RunRowRepository<E extends RunRow> {
  protected readonly repo: Repository<E>;

  protected constructor(
    dataSource: DataSource,
    entity: EntityTarget<E>,
    protected readonly statuses: RunStatuses<E['status']>,
  ) {
    this.repo = dataSource.getRepository(entity);
  }

  async create(row: E): Promise<E> {
    await this.repo.insert(row as Parameters<Repository<E>['insert']>[0]);
    return row;
  }

  findById(id: string): Promise<E | null> {
    return this.repo.findOneBy({ id } as FindOptionsWhere<E>);
  }

  /** The oldest run that is queued or running, if any (for tables that run one at a time). */
  findActive(): Promise<E | null> {
    return this.repo.findOne({
      where: { status: In([...this.statuses.active]) } as FindOptionsWhere<E>,
      order: { createdAt: 'ASC' } as FindOptionsOrder<E>,
    });
  }

  /** Ids of runs `queued` since before `olderThan`, by id after `afterId`: the reconciler re-enqueues them. */
  async findQueuedIds(olderThan: Date, afterId: string | undefined, limit: number): Promise<string[]> {
    const rows = await this.repo.find({
      select: { id: true } as FindOptionsSelect<E>,
      where: {
        status: this.statuses.queued,
        createdAt: LessThan(olderThan),
        ...(afterId === undefined ? {} : { id: MoreThan(afterId) }),
      } as FindOptionsWhere<E>,
      order: { id: 'ASC' } as FindOptionsOrder<E>,
      take: limit,
    });
    return rows.map((r) => r.id);
  }

  /** Marks a queued (or interrupted running) run as running; false when it has finished meanwhile. */
  async markRunning(id: string): Promise<boolean> {
    const result = await this.repo.update(
      { id, status: In([...this.statuses.active]) } as FindOptionsWhere<E>,
      { status: this.statuses.running, startedAt: new Date(), error: null } as unknown as Parameters<
        Repository<E>['update']
      >[1],
    );
    return result.affected === 1;
  }
}
