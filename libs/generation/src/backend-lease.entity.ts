import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn, UuidColumn } from '@app/core';

/**
 * Who may talk to one SD.Next backend right now. SD.Next runs one generation at a time and cannot tell two
 * requests apart, so every process (API instances, workers) takes this lease before sending txt2img. The lease is
 * free when `expires_at` is in the past; a crashed holder's lease simply runs out.
 */
@Entity('backend_leases')
export class BackendLeaseEntity {
  @PrimaryColumn({ type: 'varchar', name: 'backend_id', length: 64 })
  backendId: string;

  @UuidColumn({ name: 'job_id', nullable: true })
  jobId: string | null;

  /** Process that holds it (`<host>/<pid>/<random>`), for diagnostics. */
  @Column({ type: 'varchar', length: 200, nullable: true })
  holder: string | null;

  @TimestampColumn({ name: 'expires_at' })
  expiresAt: Date;
}
