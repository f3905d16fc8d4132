import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import Database from 'better-sqlite3';
import { DataSource, type EntityManager, type EntityMetadata, In, MoreThan, type ObjectLiteral } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { AdapterEntity, AdapterTagEntity } from '@app/adapters';
import { APP_CONFIG, type AppConfig, chunk, DatabaseType, toNumber } from '@app/core';
import { Inject } from '@nestjs/common';

export type ArchiveRow = Record<string, unknown>;

/** Parameters one multi-row statement may carry, under both databases' limits. */
const PARAMETERS_PER_STATEMENT = 5000;
const IDS_PER_STATEMENT = 500;
const TIMESTAMP_TYPES = new Set(['datetime', 'timestamptz', 'timestamp']);

/** The writes of one import, all inside its one transaction. */
export class ArchiveWrites {
  constructor(
    private readonly em: EntityManager,
    private readonly metadataOf: (table: string) => EntityMetadata,
  ) {}

  async insertAdapters(rows: AdapterEntity[]): Promise<void> {
    await this.insert(this.metadataOf('adapters'), rows as unknown as ArchiveRow[], false);
    const tags = rows.flatMap((r) => r.tags.map((tag) => ({ adapterId: r.id, tag })));
    for (const part of chunk(tags, 1000)) {
      await this.em.createQueryBuilder().insert().into(AdapterTagEntity).values(part).orIgnore().execute();
    }
  }

  /** Rewrites an adapter's user fields (and the values derived from them); tag rows follow `tags` when given. */
  async updateAdapter(id: string, values: Partial<AdapterEntity>, tags: string[] | undefined): Promise<void> {
    await this.em.getRepository(AdapterEntity).update({ id }, values as QueryDeepPartialEntity<AdapterEntity>);
    if (!tags) return;
    await this.em.getRepository(AdapterTagEntity).delete({ adapterId: id });
    for (const part of chunk(tags, 500)) {
      await this.em.getRepository(AdapterTagEntity).insert(part.map((tag) => ({ adapterId: id, tag })));
    }
  }

  /** Inserts rows of `table` that are not there yet (by primary key). */
  async insertNew(table: string, rows: ArchiveRow[]): Promise<void> {
    await this.insert(this.metadataOf(table), rows, true);
  }

  private async insert(metadata: EntityMetadata, rows: ArchiveRow[], ignoreExisting: boolean): Promise<void> {
    const perStatement = Math.max(1, Math.floor(PARAMETERS_PER_STATEMENT / metadata.columns.length));
    for (const part of chunk(rows, perStatement)) {
      const query = this.em
        .createQueryBuilder()
        .insert()
        .into(metadata.target)
        .values(part.map((row) => reviveRow(metadata, row)))
        .updateEntity(false);
      await (ignoreExisting ? query.orIgnore() : query).execute();
    }
  }
}

/** A row read back from JSON, typed for its table: timestamps become dates, columns TypeORM never writes are left out. */
function reviveRow(metadata: EntityMetadata, raw: ArchiveRow): ObjectLiteral {
  const row: ObjectLiteral = {};
  for (const column of metadata.columns) {
    if (!column.isInsert) continue;
    const value = raw[column.propertyName];
    if (value === undefined) continue;
    row[column.propertyName] =
      value !== null && typeof column.type === 'string' && TIMESTAMP_TYPES.has(column.type)
        ? new Date(value as string)
        : value;
  }
  return row;
}

/** What tells an adapter's files' paths: the LoRA, its sidecars and its preview (`filesOf` in the export). */
export type AdapterFileFields = Pick<
  AdapterEntity,
  'rootId' | 'relativePath' | 'folder' | 'sidecars' | 'previewPath' | 'missingSince'
>;

/** Reads the library page by page for an export, and writes an import in one transaction. */
@Injectable()
export class ArchiveRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  get databaseType(): DatabaseType {
    return this.config.database.type;
  }

  /** Whether this database has the table (recipes arrive with their own lib). */
  hasTable(table: string): boolean {
    return this.dataSource.entityMetadatas.some((m) => m.tableName === table);
  }

  private metadataOf(table: string): EntityMetadata {
    const metadata = this.dataSource.entityMetadatas.find((m) => m.tableName === table);
    if (!metadata) throw new Error(`No entity for table ${table}`);
    return metadata;
  }

  async count(table: string): Promise<number> {
    const rows: { n: unknown }[] = await this.dataSource.query(`SELECT COUNT(*) AS n FROM ${table}`);
    return toNumber(rows[0]?.n);
  }

  /**
   * Present adapters' LoRA files and sidecars as their rows recorded them (the last import's sizes): how many and
   * their bytes, summed in SQL instead of a visit to each file.
   */
  async recordedLibraryFiles(): Promise<{ files: number; bytes: number }> {
    const pg = this.databaseType === DatabaseType.Postgres;
    const sidecars = pg
      ? `jsonb_array_elements(CASE WHEN jsonb_typeof(a.sidecars) = 'array' THEN a.sidecars ELSE '[]'::jsonb END) AS s(value)`
      : `json_each(CASE WHEN json_valid(a.sidecars) THEN a.sidecars ELSE '[]' END) s`;
    const size = pg ? `(s.value ->> 'size')::bigint` : `json_extract(s.value, '$.size')`;
    const rows: { files: unknown; bytes: unknown }[] = await this.dataSource.query(
      `SELECT COUNT(*) AS files, COALESCE(SUM(f.size), 0) AS bytes FROM (
         SELECT a.file_size AS size FROM adapters a WHERE a.missing_since IS NULL
         UNION ALL
         SELECT ${size} FROM adapters a CROSS JOIN ${sidecars} WHERE a.missing_since IS NULL) f`,
    );
    return { files: toNumber(rows[0]?.files), bytes: toNumber(rows[0]?.bytes) };
  }

  /** Present adapters with a preview file, with what tells their files' paths (`filesOf`). */
  async previewedAdapters(): Promise<AdapterFileFields[]> {
    const rows: { root_id: string; relative_path: string; folder: string; preview_path: string; sidecars: unknown }[] =
      await this.dataSource.query(
        `SELECT root_id, relative_path, folder, preview_path, sidecars FROM adapters
         WHERE missing_since IS NULL AND preview_path IS NOT NULL`,
      );
    return rows.map((r) => {
      // A JSON column: text on SQLite, parsed on PostgreSQL.
      const sidecars: unknown = typeof r.sidecars === 'string' ? JSON.parse(r.sidecars) : r.sidecars;
      return {
        rootId: r.root_id,
        relativePath: r.relative_path,
        folder: r.folder,
        previewPath: r.preview_path,
        sidecars: Array.isArray(sidecars) ? (sidecars as AdapterEntity['sidecars']) : [],
        missingSince: null,
      };
    });
  }

  /** Result images: how many rows and the bytes they recorded. */
  async resultFiles(): Promise<{ files: number; bytes: number }> {
    const rows: { files: unknown; bytes: unknown }[] = await this.dataSource.query(
      `SELECT COUNT(*) AS files, COALESCE(SUM(bytes), 0) AS bytes FROM generation_results`,
    );
    return { files: toNumber(rows[0]?.files), bytes: toNumber(rows[0]?.bytes) };
  }

  /** Every adapter, present or tombstoned, in id order. */
  async *adapterPages(pageSize: number): AsyncIterable<AdapterEntity[]> {
    let after: string | null = null;
    for (;;) {
      const page = await this.dataSource
        .getRepository(AdapterEntity)
        .find({ where: after === null ? {} : { id: MoreThan(after) }, order: { id: 'ASC' }, take: pageSize });
      if (page.length === 0) return;
      yield page;
      after = page[page.length - 1].id;
      if (page.length < pageSize) return;
    }
  }

  /** Every row of a table, in primary-key order: keyset paging on a one-column key, offsets on a composite one. */
  async *rowPages(table: string, pageSize: number): AsyncIterable<ArchiveRow[]> {
    const metadata = this.metadataOf(table);
    const repo = this.dataSource.getRepository<ObjectLiteral>(metadata.target);
    const keys = metadata.primaryColumns.map((c) => c.propertyName);
    const order = Object.fromEntries(keys.map((k) => [k, 'ASC' as const]));
    let after: unknown = null;
    for (let offset = 0; ; offset += pageSize) {
      const page =
        keys.length === 1
          ? await repo.find({ where: after === null ? {} : { [keys[0]]: MoreThan(after) }, order, take: pageSize })
          : await repo.find({ order, skip: offset, take: pageSize });
      if (page.length === 0) return;
      yield page;
      after = page[page.length - 1][keys[0]];
      if (page.length < pageSize) return;
    }
  }

  /** Local adapters an archive page may merge with: same verified SHA-256, or same root and relative path. */
  async candidates(rows: Pick<AdapterEntity, 'sha256' | 'rootId' | 'relativePath'>[]): Promise<AdapterEntity[]> {
    const repo = this.dataSource.getRepository(AdapterEntity);
    const found = new Map<string, AdapterEntity>();
    const hashes = [...new Set(rows.map((r) => r.sha256).filter((h): h is string => !!h))];
    for (const part of chunk(hashes, IDS_PER_STATEMENT)) {
      for (const a of await repo.find({ where: { sha256: In(part), sha256Verified: true } })) found.set(a.id, a);
    }
    const paths = [...new Set(rows.map((r) => r.relativePath))];
    for (const part of chunk(paths, IDS_PER_STATEMENT)) {
      for (const a of await repo.find({ where: { relativePath: In(part) } })) found.set(a.id, a);
    }
    return [...found.values()];
  }

  /** Which of these primary keys `table` holds already (one-column keys). */
  async existingIds(table: string, ids: string[]): Promise<Set<string>> {
    const metadata = this.metadataOf(table);
    const key = metadata.primaryColumns[0].propertyName;
    const out = new Set<string>();
    const repo = this.dataSource.getRepository<ObjectLiteral>(metadata.target);
    for (const part of chunk(ids, IDS_PER_STATEMENT)) {
      for (const row of await repo.find({ select: { [key]: true }, where: { [key]: In(part) } })) {
        out.add(String(row[key]));
      }
    }
    return out;
  }

  /** Runs an import's writes in one transaction: all of them land, or none. */
  async transaction<T>(work: (writes: ArchiveWrites) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((em) => work(new ArchiveWrites(em, (t) => this.metadataOf(t))));
  }

  /**
   * SQLite: a consistent copy through the online backup API, read on a connection of its own so that it sees the last
   * committed state while the API keeps serving (and an import's open transaction is neither seen nor blocked).
   */
  async sqliteBackup(destination: string): Promise<void> {
    if (this.config.database.type !== DatabaseType.Sqlite) throw new Error('sqliteBackup needs SQLite');
    const source = new Database(this.config.database.path, { fileMustExist: true });
    try {
      source.pragma('busy_timeout = 5000');
      await source.backup(destination, { progress: () => 2000 });
    } finally {
      source.close();
    }
  }
}
