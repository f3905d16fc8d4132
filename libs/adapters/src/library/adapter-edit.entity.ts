import { Column, Entity, Index } from 'typeorm';
import { JsonColumn, TimestampColumn, UuidColumn, UuidPrimaryColumn } from '@app/core';

/** What a user did to an adapter record. */
export enum AdapterEditAction {
  /** Changed user fields (a patch, or a bulk activate/favorite). */
  Edit = 'edit',
  /** Deleted the record. */
  Delete = 'delete',
}

/**
 * One user edit of an adapter, written in the edit's transaction: the adapter row keeps only which fields were ever
 * edited (`user_edited`), not when, and a deleted record keeps nothing. The activity feed reads these.
 */
@Entity('adapter_edits')
@Index('idx_adapter_edits_created', ['createdAt', 'id'])
export class AdapterEditEntity {
  @UuidPrimaryColumn()
  id: string;

  @UuidColumn({ name: 'adapter_id' })
  adapterId: string;

  /** The adapter's name after the edit (before a delete), so the feed can name a deleted record. */
  @Column({ type: 'varchar', length: 512, name: 'adapter_name' })
  adapterName: string;

  @Column({ type: 'varchar', length: 16 })
  action: AdapterEditAction;

  /** The user fields changed (empty for a delete). */
  @JsonColumn()
  fields: string[];

  @TimestampColumn({ name: 'created_at' })
  createdAt: Date;
}
