import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { chunk } from '@app/core';
import { DataSource, type EntityManager, type FindOptionsSelect, In, IsNull } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { AdapterTagEntity } from './adapter-tag.entity.js';
import { AdapterEntity } from './adapter.entity.js';

/** Columns a resync reads for every known file: enough to decide "unchanged" with no further I/O. */
export type AdapterSnapshot = Pick<
  AdapterEntity,
  | 'id'
  | 'rootId'
  | 'relativePath'
  | 'fileName'
  | 'fileSize'
  | 'fileMtimeMs'
  | 'sha256'
  | 'autoV1'
  | 'autoV2'
  | 'autoV3'
  | 'sidecars'
  | 'missingSince'
  | 'userEdited'
  | 'name'
  | 'triggerWords'
  | 'preferredWeight'
  | 'weightMin'
  | 'weightMax'
  | 'notes'
  | 'favorite'
  | 'active'
  | 'ordinal'
  | 'nsfwOverride'
  | 'baseModel'
  | 'tags'
  | 'createdAt'
>;

const SNAPSHOT_COLUMNS: (keyof AdapterSnapshot)[] = [
  'id',
  'rootId',
  'relativePath',
  'fileName',
  'fileSize',
  'fileMtimeMs',
  'sha256',
  'autoV1',
  'autoV2',
  'autoV3',
  'sidecars',
  'missingSince',
  'userEdited',
  'name',
  'triggerWords',
  'preferredWeight',
  'weightMin',
  'weightMax',
  'notes',
  'favorite',
  'active',
  'ordinal',
  'nsfwOverride',
  'baseModel',
  'tags',
  'createdAt',
];

const SNAPSHOT_SELECT = Object.fromEntries(SNAPSHOT_COLUMNS.map((c) => [c, true])) as FindOptionsSelect<AdapterEntity>;

// ~60 columns a row: 100 rows stay far below SQLite's 32,766 and PostgreSQL's 65,535 bound parameters.
const ROWS_PER_STATEMENT = 100;

/** The importer's writes: batched, chunked, one transaction a batch. */
@Injectable()
export class AdapterRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Every known file of these roots, live or tombstoned. */
  async snapshot(rootIds: string[]): Promise<AdapterSnapshot[]> {
    if (rootIds.length === 0) return [];
    // Numbers come back as strings from PostgreSQL bigint; normalise here so callers compare numbers.
    const rows = await this.dataSource.getRepository(AdapterEntity).find({
      select: SNAPSHOT_SELECT,
      where: { rootId: In(rootIds) },
    });
    for (const r of rows) {
      r.fileSize = Number(r.fileSize);
      r.fileMtimeMs = Number(r.fileMtimeMs);
    }
    return rows;
  }

  /** Live rows elsewhere with this content: move candidates across roots. */
  async findBySha256(sha256s: string[]): Promise<AdapterSnapshot[]> {
    const out: AdapterSnapshot[] = [];
    for (const part of chunk([...new Set(sha256s)], 500)) {
      out.push(
        ...(await this.dataSource.getRepository(AdapterEntity).find({ select: SNAPSHOT_SELECT, where: { sha256: In(part) } })),
      );
    }
    return out;
  }

  /**
   * Inserts or replaces whole rows (the caller has merged user fields in) and rewrites their tag rows, in one
   * transaction: a batch is either fully written or not at all.
   */
  async writeBatch(rows: AdapterEntity[], missing: { ids: string[]; at: Date } | null = null): Promise<void> {
    if (rows.length === 0 && (!missing || missing.ids.length === 0)) return;
    await this.dataSource.transaction(async (em) => {
      await this.upsertRows(em, rows);
      if (missing && missing.ids.length > 0) await this.markMissingIn(em, missing.ids, missing.at);
    });
  }

  private async upsertRows(em: EntityManager, rows: AdapterEntity[]): Promise<void> {
    if (rows.length === 0) return;
    const metadata = this.dataSource.getMetadata(AdapterEntity);
    const updateColumns = metadata.columns
      .map((c) => c.databaseName)
      .filter((name) => name !== 'id' && name !== 'created_at');
    for (const part of chunk(rows, ROWS_PER_STATEMENT)) {
      await em.createQueryBuilder().insert().into(AdapterEntity).values(part as QueryDeepPartialEntity<AdapterEntity>[]).orUpdate(updateColumns, ['id']).updateEntity(false).execute();
    }
    const ids = rows.map((r) => r.id);
    for (const part of chunk(ids, 500)) await em.delete(AdapterTagEntity, { adapterId: In(part) });
    const tags = rows.flatMap((r) => r.tags.map((tag) => ({ adapterId: r.id, tag })));
    for (const part of chunk(tags, 2000)) {
      await em.createQueryBuilder().insert().into(AdapterTagEntity).values(part).orIgnore().updateEntity(false).execute();
    }
  }

  private async markMissingIn(em: EntityManager, ids: string[], at: Date): Promise<void> {
    for (const part of chunk(ids, 500)) {
      await em.update(AdapterEntity, { id: In(part), missingSince: IsNull() }, { missingSince: at, updatedAt: at });
    }
  }
}
