import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '@app/core';

/** Which app a process runs. */
export enum ProcessKind {
  Api = 'api',
  Worker = 'worker',
}

/** One running API or worker process: written at start, renewed every few seconds, deleted at a clean stop. */
@Entity('process_heartbeats')
@Index('idx_process_heartbeats_beat', ['beatAt'])
export class ProcessHeartbeatEntity {
  /** `<kind>/<host>/<pid>/<random>`: unique per process start. */
  @PrimaryColumn({ type: 'varchar', length: 200 })
  id: string;

  @Column({ type: 'varchar', length: 16 })
  kind: ProcessKind;

  @Column({ type: 'varchar', length: 255 })
  host: string;

  @Column({ type: 'integer' })
  pid: number;

  @Column({ type: 'varchar', length: 64 })
  version: string;

  @TimestampColumn({ name: 'started_at' })
  startedAt: Date;

  @TimestampColumn({ name: 'beat_at' })
  beatAt: Date;
}
