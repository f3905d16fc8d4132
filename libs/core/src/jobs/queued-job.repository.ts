import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, type Repository } from 'typeorm';
import { RowSql } from '../database/row-sql.js';
import { JobStatus } from './job-name.js';
import { QueuedJobEntity } from './queued-job.entity.js';

@Injectable()
export class QueuedJobRepository {
  private readonly repo: Repository<QueuedJobEntity>;
  /** The statements each job runs (claim, finish) and each pump runs (due names), written out: see RowSql. */
  private readonly rows: RowSql<QueuedJobEntity>;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.repo = dataSource.getRepository(QueuedJobEntity);
    this.rows = new RowSql(dataSource, QueuedJobEntity);
  }

  /** Inserts the job unless a job with its id exists (an enqueue repeated with the same jobId): one statement. */
  async insertIfAbsent(job: QueuedJobEntity): Promise<void> {
    await this.rows.insert(job, { ifAbsent: true });
  }

  /** Unfinished rows counted by name and state: `waiting` (due), `delayed` (a retry or delay ahead), `active`. */
  async depths(now: Date): Promise<{ name: string; state: 'waiting' | 'active' | 'delayed'; count: number }[]> {
    const rows = await this.repo
      .createQueryBuilder('j')
      .select('j.name', 'name')
      .addSelect(
        `CASE WHEN j.status = :running THEN 'active' WHEN j.run_after > :now THEN 'delayed' ELSE 'waiting' END`,
        'state',
      )
      .addSelect('COUNT(*)', 'count')
      .where('j.status IN (:...open)', { open: [JobStatus.Queued, JobStatus.Running] })
      .setParameters({ running: JobStatus.Running, now })
      .groupBy('j.name')
      .addGroupBy('state')
      .getRawMany<{ name: string; state: 'waiting' | 'active' | 'delayed'; count: number | string }>();
    return rows.map((r) => ({ name: r.name, state: r.state, count: Number(r.count) }));
  }

  findById(id: string): Promise<QueuedJobEntity | null> {
    return this.rows.one('SELECT {columns} FROM {table} WHERE {id} = ?', [id]);
  }

  /** Jobs left `running` by a process that died go back to the queue. */
  async requeueRunning(): Promise<number> {
    const result = await this.repo.update({ status: JobStatus.Running }, { status: JobStatus.Queued, startedAt: null });
    return result.affected ?? 0;
  }

  /** The names that have a due job waiting: one indexed query, so a pump asks only those for a job. */
  async dueNames(now: Date): Promise<Set<string>> {
    const { rows } = await this.rows.run(
      'SELECT DISTINCT {name} AS name FROM {table} WHERE {status} = ? AND {runAfter} <= ?',
      [JobStatus.Queued, this.rows.value('runAfter', now)],
    );
    return new Set(rows.map((r) => r.name as string));
  }

  /**
   * The oldest due job of `name`, marked running, or none: one UPDATE … RETURNING, so no other claimer can take it
   * between the read and the write (on PostgreSQL a row another claimer holds is skipped).
   */
  claimNext(name: string, now: Date): Promise<QueuedJobEntity | null> {
    const skipLocked = this.rows.postgres ? ' FOR UPDATE SKIP LOCKED' : '';
    return this.rows.one(
      'UPDATE {table} SET {status} = ?, {startedAt} = ?, {attempts} = {attempts} + 1 WHERE {id} = (' +
        'SELECT {id} FROM {table} WHERE {name} = ? AND {status} = ? AND {runAfter} <= ? ' +
        `ORDER BY {runAfter}, {createdAt} LIMIT 1${skipLocked}) AND {status} = ? RETURNING {columns}`,
      [
        JobStatus.Running,
        this.rows.value('startedAt', now),
        name,
        JobStatus.Queued,
        this.rows.value('runAfter', now),
        JobStatus.Queued,
      ],
    );
  }

  async nextDueTime(names: string[]): Promise<Date | null> {
    const next = await this.repo.findOne({
      where: { name: In(names), status: JobStatus.Queued },
      order: { runAfter: 'ASC' },
      select: { id: true, runAfter: true },
    });
    return next?.runAfter ?? null;
  }

  async setProgress(id: string, progress: number): Promise<void> {
    await this.repo.update({ id }, { progress });
  }

  async finish(id: string, status: JobStatus, fields: { result?: unknown; error?: string | null }): Promise<void> {
    // Stored as JSON; a handler's result is wrapped so that scalars survive too.
    const result = fields.result === undefined ? null : { value: fields.result };
    const progress = status === JobStatus.Completed ? ', {progress} = 1' : '';
    await this.rows.run(
      `UPDATE {table} SET {status} = ?, {result} = ?, {error} = ?, {finishedAt} = ?${progress} WHERE {id} = ?`,
      [status, this.rows.value('result', result), fields.error ?? null, this.rows.value('finishedAt', new Date()), id],
    );
  }

  async retryLater(id: string, runAfter: Date, error: string): Promise<void> {
    await this.repo.update({ id }, { status: JobStatus.Queued, runAfter, error, startedAt: null });
  }

  /** A claimed job that never began goes back to the queue as it was: the claim's attempt is given back. */
  async handBack(id: string, attemptsBefore: number): Promise<void> {
    await this.repo.update(
      { id, status: JobStatus.Running },
      { status: JobStatus.Queued, startedAt: null, attempts: attemptsBefore },
    );
  }

  /** Cancels a job that has not started; false when it was claimed meanwhile. */
  async cancelQueued(id: string): Promise<boolean> {
    const result = await this.repo.update(
      { id, status: JobStatus.Queued },
      { status: JobStatus.Cancelled, finishedAt: new Date(), error: 'cancelled before it started' },
    );
    return result.affected === 1;
  }
}
