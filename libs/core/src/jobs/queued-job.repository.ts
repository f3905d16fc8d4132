import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, LessThanOrEqual, type Repository } from 'typeorm';
import { JobStatus } from './job-name.js';
import { QueuedJobEntity } from './queued-job.entity.js';

@Injectable()
export class QueuedJobRepository {
  private readonly repo: Repository<QueuedJobEntity>;

  constructor(@InjectDataSource() dataSource: DataSource) {
    this.repo = dataSource.getRepository(QueuedJobEntity);
  }

  /** Inserts the job unless a job with its id exists (an enqueue repeated with the same jobId): one statement. */
  async insertIfAbsent(job: QueuedJobEntity): Promise<void> {
    await this.repo.createQueryBuilder().insert().values(job).orIgnore().execute();
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
    return this.repo.findOneBy({ id });
  }

  /** Jobs left `running` by a process that died go back to the queue. */
  async requeueRunning(): Promise<number> {
    const result = await this.repo.update({ status: JobStatus.Running }, { status: JobStatus.Queued, startedAt: null });
    return result.affected ?? 0;
  }

  /** The names that have a due job waiting: one indexed query, so a pump asks only those for a job. */
  async dueNames(now: Date): Promise<Set<string>> {
    const rows = await this.repo
      .createQueryBuilder('j')
      .select('DISTINCT j.name', 'name')
      .where('j.status = :queued AND j.run_after <= :now', { queued: JobStatus.Queued, now })
      .getRawMany<{ name: string }>();
    return new Set(rows.map((r) => r.name));
  }

  /** The oldest due job of `name`, or none; it is marked running only if nobody claimed it first. */
  async claimNext(name: string, now: Date): Promise<QueuedJobEntity | null> {
    const candidates = await this.repo.find({
      where: { name, status: JobStatus.Queued, runAfter: LessThanOrEqual(now) },
      order: { runAfter: 'ASC', createdAt: 'ASC' },
      take: 5,
    });
    for (const job of candidates) {
      const claimed = await this.repo.update(
        { id: job.id, status: JobStatus.Queued },
        { status: JobStatus.Running, startedAt: now, attempts: job.attempts + 1 },
      );
      if (claimed.affected === 1)
        return { ...job, status: JobStatus.Running, startedAt: now, attempts: job.attempts + 1 };
    }
    return null;
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
    await this.repo.update(
      { id },
      {
        status,
        // Stored as JSON; a handler's result is wrapped so that scalars survive too.
        result: fields.result === undefined ? null : { value: fields.result },
        error: fields.error ?? null,
        finishedAt: new Date(),
        progress: status === JobStatus.Completed ? 1 : undefined,
      },
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
