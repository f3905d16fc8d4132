import { Column, Entity, PrimaryColumn } from 'typeorm';
import { TimestampColumn } from '../database/columns.js';

/**
 * A duty that exactly one process may perform at a time (watching the library folders, the start-up import): held
 * while `expires_at` is in the future, renewed by its holder, and free to take once a crashed holder stops renewing.
 */
@Entity('process_leases')
export class ProcessLeaseEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  name: string;

  /** Process that holds it (`<host>/<pid>/<random>`), for diagnostics. */
  @Column({ type: 'varchar', length: 200, nullable: true })
  holder: string | null;

  @TimestampColumn({ name: 'expires_at' })
  expiresAt: Date;
}
