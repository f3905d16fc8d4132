import { Entity, Index, PrimaryColumn } from 'typeorm';
import { columnTypes } from '@app/core';

/** One row per (adapter, tag): portable, indexed tag filters and facet counts on both databases. */
@Entity('adapter_tags')
@Index('idx_adapter_tags_tag_adapter', ['tag', 'adapterId'])
export class AdapterTagEntity {
  @PrimaryColumn({
    type: columnTypes.uuid(),
    length: columnTypes.uuid() === 'uuid' ? undefined : 36,
    name: 'adapter_id',
  })
  adapterId: string;

  @PrimaryColumn({ type: 'varchar', length: 255 })
  tag: string;
}
