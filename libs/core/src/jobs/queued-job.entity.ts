import { Column, Entity, Index } from 'typeorm';
import { JsonColumn, TimestampColumn, UuidPrimaryColumn } from '../database/columns.js';
import { JobStatus } from './job-name.js';
import { JobRowTimestamps } from './job-row.js';

/** A job of the in-process runner (embedded mode). The row is written before the job runs: that makes it durable. */
@Entity('queued_jobs')
@Index('idx_queued_jobs_claim', ['status', 'runAfter'])
@Index('idx_queued_jobs_name', ['name'])
export class QueuedJobEntity extends JobRowTimestamps {
  @UuidPrimaryColumn()
  id: string;

  @Column({ type: 'varchar', length: 64 })
  name: string;

  @JsonColumn()
  payload: object;

  @Column({ type: 'varchar', length: 16, default: JobStatus.Queued })
  status: JobStatus;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ type: 'integer', name: 'max_attempts' })
  maxAttempts: number;

  @TimestampColumn({ name: 'run_after' })
  runAfter: Date;

  @Column({ type: 'real', default: 0 })
  progress: number;

  @JsonColumn({ nullable: true })
  result: object | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;
}
