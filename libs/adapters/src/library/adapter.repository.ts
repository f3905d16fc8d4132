import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { chunk } from '@app/core';
import { DataSource, type EntityManager, type FindOptionsSelect, In, IsNull } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { randomUUID } from 'node:crypto';
import { type AdapterUserState, AdapterUserField, keepStoredUserState } from './adapter-fields.js';
import { AdapterEditAction, AdapterEditEntity } from './adapter-edit.entity.js';
import { AdapterTagEntity } from './adapter-tag.entity.js';
import { AdapterEntity, type AdapterSidecarRef } from './adapter.entity.js';

/** The columns a user's edit may change: the user fields (`AdapterUserField`) and the values derived from them. */
export type AdapterEditableColumns = Pick<
  AdapterEntity,
  `${AdapterUserField}` | 'sortName' | 'nsfwMax' | 'searchText' | 'userEdited' | 'updatedAt'
>;

/** What a resync reads of a row besides its user fields: enough to decide "unchanged" with no further I/O. */
const FILE_SNAPSHOT_COLUMNS = [
  'id',
  'rootId',
  'relativePath',
  'fileName',
  'fileSize',
  'fileMtimeMs',
  'sha256',
  'sha256Verified',
  'autoV1',
  'autoV2',
  'autoV3',
  'sidecars',
  'factsDigest',
  'civitaiRemote',
  'civitaiCheckedAt',
  'missingSince',
  'userEdited',
  'createdAt',
] as const satisfies readonly (keyof AdapterEntity)[];

/** The columns a resync reads of a row it rewrites: its file state and every user field, so no edit is lost. */
export type AdapterSnapshot = Pick<AdapterEntity, (typeof FILE_SNAPSHOT_COLUMNS)[number] | `${AdapterUserField}`>;

const SNAPSHOT_COLUMNS: (keyof AdapterSnapshot)[] = [...FILE_SNAPSHOT_COLUMNS, ...Object.values(AdapterUserField)];

const SNAPSHOT_SELECT = Object.fromEntries(SNAPSHOT_COLUMNS.map((c) => [c, true])) as FindOptionsSelect<AdapterEntity>;

/** `keepStoredUserState` for each row of `rows` that `stored` (read in the write's transaction) holds. */
function keepStoredUserStates(rows: readonly AdapterEntity[], stored: readonly (AdapterUserState & { id: string })[]) {
  if (stored.length === 0) return;
  const byId = new Map(stored.map((s) => [s.id, s]));
  for (const row of rows) {
    const state = byId.get(row.id);
    if (state) keepStoredUserState(row, state);
  }
}

// ~60 columns a row: 100 rows stay far below SQLite's 32,766 and PostgreSQL's 65,535 bound parameters.
const ROWS_PER_STATEMENT = 100;

interface RawStatement {
  run(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}
interface RawSqlite {
  prepare(sql: string): RawStatement;
  /** better-sqlite3's transaction function; `immediate` takes the write lock before the first read. */
  transaction(fn: () => void): { immediate(): void };
  pragma(sql: string, options?: { simple: boolean }): unknown;
}

/**
 * SQLite: the write-ahead log an import lets grow before a checkpoint copies it into the database file (SQLite's own
 * default is 1,000 pages, ~4 MiB). An import's commit writes thousands of pages (in a large index each row's entries
 * land on leaf pages of their own: ~20 MiB a 2,000-row batch at 90,000 adapters), so at the default every commit is
 * followed by a checkpoint that copies all of them and syncs twice. With room for several commits, a page that
 * several batches rewrite is copied once; the import checkpoints once more when it ends.
 */
const BULK_WAL_BYTES = 64 * 1024 * 1024;

/** The columns of a row's user state (`AdapterUserState`), read again when a batch is written. */
const USER_STATE_COLUMNS: (keyof AdapterEntity)[] = ['id', 'userEdited', ...Object.values(AdapterUserField)];
const USER_STATE_SELECT = Object.fromEntries(
  USER_STATE_COLUMNS.map((c) => [c, true]),
) as FindOptionsSelect<AdapterEntity>;

const TAG_PAIRS_PER_STATEMENT = 500;
const IDS_PER_STATEMENT = 500;
/** Six columns a row: well under both databases' parameter limits. */
const EDITS_PER_STATEMENT = 100;
/** SQLite column types whose values are bound as they are (no JSON, date or boolean conversion). */
const PLAIN_SQLITE_TYPES = new Set(['varchar', 'text', 'integer', 'real']);

/**
 * Split into chunks of `max`, then the remainder into power-of-two sizes: every chunk has one of a handful of
 * sizes, so a few prepared multi-row statements serve any batch.
 */
export function chunksForStatements<T>(items: readonly T[], max = ROWS_PER_STATEMENT): T[][] {
  const out: T[][] = [];
  let i = 0;
  while (items.length - i >= max) {
    out.push(items.slice(i, i + max));
    i += max;
  }
  for (let size = 1 << Math.floor(Math.log2(max)); size >= 1 && i < items.length; size >>= 1) {
    while (items.length - i >= size) {
      out.push(items.slice(i, i + size));
      i += size;
    }
  }
  return out;
}

/** The importer's SQLite statements, prepared once per row count. */
class SqliteStatements {
  private readonly upserts = new Map<number, RawStatement>();
  private readonly tagDeletes = new Map<number, RawStatement>();
  private readonly tagInserts = new Map<number, RawStatement>();
  private readonly tombstones = new Map<number, RawStatement>();
  private readonly userStates = new Map<number, RawStatement>();
  private readonly rowValues: string;
  private readonly insertHead: string;
  private readonly updateTail: string;
  private readonly userStateList: string;

  constructor(
    private readonly db: RawSqlite,
    columnNames: string[],
    /** The columns of a row's user state, read again as a batch is written. */
    userStateColumns: string[],
  ) {
    const names = columnNames.map((c) => `"${c}"`);
    this.userStateList = userStateColumns.map((c) => `"${c}"`).join(', ');
    this.insertHead = `INSERT INTO "adapters" (${names.join(', ')}) VALUES `;
    this.rowValues = `(${names.map(() => '?').join(', ')})`;
    this.updateTail = ` ON CONFLICT("id") DO UPDATE SET ${columnNames
      .filter((c) => c !== 'id' && c !== 'created_at')
      .map((c) => `"${c}" = excluded."${c}"`)
      .join(', ')}`;
  }

  userState(ids: number): RawStatement {
    return this.cached(
      this.userStates,
      ids,
      () => `SELECT ${this.userStateList} FROM "adapters" WHERE "id" IN (${Array(ids).fill('?').join(', ')})`,
    );
  }

  markMissing(ids: number): RawStatement {
    return this.cached(
      this.tombstones,
      ids,
      () =>
        `UPDATE "adapters" SET "missing_since" = ?, "updated_at" = ? WHERE "missing_since" IS NULL AND "id" IN (${Array(ids).fill('?').join(', ')})`,
    );
  }

  upsert(rows: number): RawStatement {
    return this.cached(
      this.upserts,
      rows,
      () => this.insertHead + Array(rows).fill(this.rowValues).join(', ') + this.updateTail,
    );
  }

  deleteTags(ids: number): RawStatement {
    return this.cached(
      this.tagDeletes,
      ids,
      () => `DELETE FROM "adapter_tags" WHERE "adapter_id" IN (${Array(ids).fill('?').join(', ')})`,
    );
  }

  insertTags(pairs: number): RawStatement {
    return this.cached(
      this.tagInserts,
      pairs,
      () =>
        `INSERT OR IGNORE INTO "adapter_tags" ("adapter_id", "tag") VALUES ${Array(pairs).fill('(?, ?)').join(', ')}`,
    );
  }

  private cached(cache: Map<number, RawStatement>, n: number, sql: () => string): RawStatement {
    let statement = cache.get(n);
    if (!statement) {
      statement = this.db.prepare(sql());
      cache.set(n, statement);
    }
    return statement;
  }
}

interface FileStateRow {
  id: string;
  root_id: string;
  relative_path: string;
  file_size: number | string;
  file_mtime_ms: number | string;
  sha256: string | null;
  sha256_verified: unknown;
  sidecars: string | AdapterSidecarRef[] | null;
  preview_path: string | null;
  missing_since: unknown;
}

/** What a resync needs of every known file to decide "unchanged" with no further I/O. */
export interface AdapterFileState {
  id: string;
  rootId: string;
  relativePath: string;
  fileSize: number;
  fileMtimeMs: number;
  sha256: string | null;
  /** `sha256` was computed from the file (not a sidecar's claim). */
  sha256Verified: boolean;
  /** The sidecars seen last time, as stored (JSON); parsed only when the file itself is unchanged. */
  sidecars: AdapterSidecarRef[];
  /** The preview file's name as stored (it sits beside the LoRA), or null when the row has none. */
  previewFile: string | null;
  missing: boolean;
}

/** A present file whose hash was never computed. */
export interface UnhashedFile {
  id: string;
  rootId: string;
  relativePath: string;
  fileSize: number;
}

/** What a resync compares a file with, read raw for speed. */
const FILE_STATE_SELECT =
  'SELECT id, root_id, relative_path, file_size, file_mtime_ms, sha256, sha256_verified, sidecars, preview_path, missing_since FROM adapters';

function toFileState(r: FileStateRow): AdapterFileState {
  return {
    id: r.id,
    rootId: r.root_id,
    relativePath: r.relative_path,
    fileSize: Number(r.file_size),
    fileMtimeMs: Number(r.file_mtime_ms),
    sha256: r.sha256,
    sha256Verified: Boolean(r.sha256_verified),
    sidecars: typeof r.sidecars === 'string' ? (JSON.parse(r.sidecars) as AdapterSidecarRef[]) : (r.sidecars ?? []),
    previewFile: r.preview_path === null ? null : r.preview_path.slice(r.preview_path.lastIndexOf('/') + 1),
    missing: r.missing_since !== null && r.missing_since !== undefined,
  };
}

/**
 * The library's writes (the importer's batches, the user's edits) and the reads they need. Imports are batched,
 * chunked, one transaction a batch: on SQLite through prepared multi-row statements on the driver's connection
 * (TypeORM's per-row parameter handling would dominate a large import), on PostgreSQL through chunked multi-row
 * upserts.
 */
@Injectable()
export class AdapterRepository {
  private sqliteStatements?: SqliteStatements;
  private sqliteValues?: ((row: AdapterEntity) => unknown)[];
  private userStateColumns?: ColumnMetadata[];
  /** Bulk writers running now (`bulkWrites`), and the checkpoint threshold to restore when the last one ends. */
  private bulkWriters = 0;
  private checkpointPages = 0;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private get isSqlite(): boolean {
    return this.dataSource.options.type === 'better-sqlite3';
  }

  /** The driver's one better-sqlite3 connection. */
  private get sqlite(): RawSqlite {
    return (this.dataSource.driver as unknown as { databaseConnection: RawSqlite }).databaseConnection;
  }

  /**
   * Runs an import's writes. On SQLite the log may grow to `BULK_WAL_BYTES` between checkpoints while any runs, and
   * when the last one ends the threshold is restored and the log copied into the database (a passive checkpoint: it
   * never waits for readers), inside the import's own time.
   */
  async bulkWrites<T>(work: () => Promise<T>): Promise<T> {
    if (!this.isSqlite) return work();
    const db = this.sqlite;
    if (this.bulkWriters++ === 0) {
      this.checkpointPages = Number(db.pragma('wal_autocheckpoint', { simple: true }));
      const pages = Math.ceil(BULK_WAL_BYTES / Number(db.pragma('page_size', { simple: true })));
      db.pragma(`wal_autocheckpoint = ${Math.max(pages, this.checkpointPages)}`);
    }
    try {
      return await work();
    } finally {
      if (--this.bulkWriters === 0) {
        db.pragma(`wal_autocheckpoint = ${this.checkpointPages}`);
        db.pragma('wal_checkpoint(PASSIVE)');
      }
    }
  }

  /** File states of every known file of these roots, live or tombstoned, read raw for speed. */
  async fileStates(rootIds: string[]): Promise<AdapterFileState[]> {
    if (rootIds.length === 0) return [];
    const out: AdapterFileState[] = [];
    for (const part of chunk(rootIds, 100)) {
      const params = part.map((_, i) => (this.isSqlite ? '?' : `$${i + 1}`)).join(', ');
      const rows = await this.dataSource.query<FileStateRow[]>(
        `${FILE_STATE_SELECT} WHERE root_id IN (${params})`,
        part,
      );
      for (const r of rows) out.push(toFileState(r));
    }
    return out;
  }

  /**
   * Present files whose hash was never computed, newest first (by when they were indexed, then by mtime): what a
   * hash run works through.
   */
  async unhashedFiles(): Promise<UnhashedFile[]> {
    const rows = await this.dataSource.query<
      { id: string; root_id: string; relative_path: string; file_size: number | string }[]
    >(
      `SELECT id, root_id, relative_path, file_size FROM adapters WHERE missing_since IS NULL AND sha256_verified = ${
        this.isSqlite ? '0' : 'false'
      } ORDER BY created_at DESC, file_mtime_ms DESC, id`,
    );
    return rows.map((r) => ({
      id: r.id,
      rootId: r.root_id,
      relativePath: r.relative_path,
      fileSize: Number(r.file_size),
    }));
  }

  /**
   * Present hashed adapters that no sidecar or lookup matched to a Civitai version, and that Civitai was not asked
   * about since `askedBefore`: what a bulk lookup asks about, newest first.
   */
  async unmatchedIds(askedBefore: Date): Promise<string[]> {
    const rows = await this.dataSource
      .getRepository(AdapterEntity)
      .createQueryBuilder('a')
      .select('a.id', 'id')
      .where('a.missing_since IS NULL')
      .andWhere('a.sha256_verified = :verified', { verified: true })
      .andWhere('a.civitai_version_id IS NULL')
      .andWhere('(a.civitai_checked_at IS NULL OR a.civitai_checked_at < :askedBefore)', { askedBefore })
      .orderBy('a.created_at', 'DESC')
      .addOrderBy('a.id')
      .getRawMany<{ id: string }>();
    return rows.map((r) => r.id);
  }

  /** How many present adapters there are and how many of them have a hash computed from their file. */
  async hashCounts(): Promise<{ present: number; verified: number }> {
    const rows = await this.dataSource.query<{ present: number | string; verified: number | string | null }[]>(
      `SELECT COUNT(*) AS present, SUM(CASE WHEN sha256_verified THEN 1 ELSE 0 END) AS verified FROM adapters WHERE missing_since IS NULL`,
    );
    return { present: Number(rows[0]?.present ?? 0), verified: Number(rows[0]?.verified ?? 0) };
  }

  /** The file states of one root's files in `folder` (relative, posix) or below it; '' is the whole root. */
  async fileStatesUnder(rootId: string, folder: string): Promise<AdapterFileState[]> {
    if (folder === '') return this.fileStates([rootId]);
    const [p1, p2, p3, p4] = this.isSqlite ? ['?', '?', '?', '?'] : ['$1', '$2', '$3', '$4'];
    // substr, not LIKE: SQLite's LIKE ignores case, and a folder may hold % or _.
    const rows = await this.dataSource.query<FileStateRow[]>(
      `${FILE_STATE_SELECT} WHERE root_id = ${p1} AND (folder = ${p2} OR substr(folder, 1, ${p3}) = ${p4})`,
      [rootId, folder, [...folder].length + 1, `${folder}/`],
    );
    return rows.map(toFileState);
  }

  /** Live or tombstoned adapters by id, for composing prompts. */
  async findByIds(ids: string[]): Promise<AdapterEntity[]> {
    const out: AdapterEntity[] = [];
    for (const part of chunk([...new Set(ids)], 500)) {
      out.push(...(await this.dataSource.getRepository(AdapterEntity).findBy({ id: In(part) })));
    }
    return out;
  }

  /** The active adapters in their ordinal order (unordered ones last, by name): the seed's default composition. */
  async findActiveInOrder(limit: number): Promise<AdapterEntity[]> {
    return this.dataSource
      .getRepository(AdapterEntity)
      .createQueryBuilder('a')
      .where('a.active = :active', { active: true })
      .andWhere('a.missing_since IS NULL')
      .orderBy('CASE WHEN a.ordinal IS NULL THEN 1 ELSE 0 END', 'ASC')
      .addOrderBy('a.ordinal', 'ASC')
      .addOrderBy('a.sort_name', 'ASC')
      .limit(limit)
      .getMany();
  }

  /** How many present adapters are active (the whole active set, of which a composition takes the first ones). */
  async countActive(): Promise<number> {
    return this.dataSource
      .getRepository(AdapterEntity)
      .createQueryBuilder('a')
      .where('a.active = :active', { active: true })
      .andWhere('a.missing_since IS NULL')
      .getCount();
  }

  /** Every live file a generator could take for one of these token names (stem, mangled stem or alias). */
  async findNameClaimants(names: string[]): Promise<AdapterEntity[]> {
    const unique = [...new Set(names.filter((n) => n.length > 0))];
    const out = new Map<string, AdapterEntity>();
    for (const part of chunk(unique, 300)) {
      const rows = await this.dataSource
        .getRepository(AdapterEntity)
        .createQueryBuilder('a')
        .where('a.missing_since IS NULL')
        .andWhere('(a.lora_stem IN (:...names) OR a.lora_name IN (:...names) OR a.lora_alias IN (:...names))', {
          names: part,
        })
        .getMany();
      for (const r of rows) out.set(r.id, r);
    }
    return [...out.values()];
  }

  /**
   * Live adapters one of these hashes identifies (lower-case hex): a full SHA-256, an AutoV2 (10), an AutoV3 (12,
   * A1111's `Lora hashes`) or an 8-hex SD.Next short hash, a prefix of the tensor hash or of the SHA-256.
   */
  async findByHashes(hashes: string[]): Promise<AdapterEntity[]> {
    const unique = [...new Set(hashes.map((h) => h.toLowerCase()).filter((h) => /^[0-9a-f]{8,64}$/.test(h)))];
    const out = new Map<string, AdapterEntity>();
    for (const [i, hash] of unique.slice(0, 500).entries()) {
      const qb = this.dataSource
        .getRepository(AdapterEntity)
        .createQueryBuilder('a')
        .where('a.missing_since IS NULL')
        .limit(20);
      const h = `h${i}`;
      if (hash.length === 64) qb.andWhere(`a.sha256 = :${h}`, { [h]: hash });
      else if (hash.length === 10)
        qb.andWhere(`(a.autov2 = :${h} OR a.autov3 LIKE :${h}p)`, { [h]: hash, [`${h}p`]: `${hash}%` });
      else {
        // sha256 by an index range (hex sorts before 'z' in every collation), autov3 by prefix
        qb.andWhere(`((a.sha256 >= :${h} AND a.sha256 < :${h}z) OR a.autov3 LIKE :${h}p)`, {
          [h]: hash,
          [`${h}z`]: `${hash}z`,
          [`${h}p`]: `${hash.slice(0, 12)}%`,
        });
      }
      for (const r of await qb.getMany()) out.set(r.id, r);
    }
    return [...out.values()];
  }

  /** The file state of one (root, relative path), live or tombstoned. */
  async fileStateAt(rootId: string, relativePath: string): Promise<AdapterFileState | null> {
    const [p1, p2] = this.isSqlite ? ['?', '?'] : ['$1', '$2'];
    const rows = await this.dataSource.query<FileStateRow[]>(
      `${FILE_STATE_SELECT} WHERE root_id = ${p1} AND relative_path = ${p2}`,
      [rootId, relativePath],
    );
    return rows[0] ? toFileState(rows[0]) : null;
  }

  /** Whether the index holds a file of this root that is not a tombstone. */
  async hasLiveFiles(rootId: string): Promise<boolean> {
    const row = await this.dataSource
      .getRepository(AdapterEntity)
      .findOne({ select: { id: true }, where: { rootId, missingSince: IsNull() } });
    return row !== null;
  }

  /** Full snapshots (user fields included) of the rows a resync will rewrite. */
  async snapshotsByIds(ids: string[]): Promise<AdapterSnapshot[]> {
    const out: AdapterSnapshot[] = [];
    for (const part of chunk([...new Set(ids)], 500)) {
      const rows = await this.dataSource
        .getRepository(AdapterEntity)
        .find({ select: SNAPSHOT_SELECT, where: { id: In(part) } });
      for (const r of rows) {
        r.fileSize = Number(r.fileSize);
        r.fileMtimeMs = Number(r.fileMtimeMs);
      }
      out.push(...rows);
    }
    return out;
  }

  /**
   * Inserts or replaces whole rows and rewrites their tag rows, in one transaction: a batch is either fully written
   * or not at all. The caller merged the user fields in from its read of the row; the transaction reads them again,
   * with the rows locked, and keeps what is stored (`keepStoredUserState`), so an edit saved in between survives.
   */
  async writeBatch(rows: AdapterEntity[], missing: { ids: string[]; at: Date } | null = null): Promise<void> {
    if (rows.length === 0 && (!missing || missing.ids.length === 0)) return;
    if (this.isSqlite) {
      this.writeBatchSqlite(rows, missing);
      return;
    }
    await this.dataSource.transaction(async (em) => {
      for (const part of chunk(rows, IDS_PER_STATEMENT)) {
        const stored = await em.getRepository(AdapterEntity).find({
          select: USER_STATE_SELECT,
          where: { id: In(part.map((r) => r.id)) },
          lock: { mode: 'pessimistic_write' },
        });
        keepStoredUserStates(part, stored);
      }
      await this.upsertRows(em, rows);
      if (missing && missing.ids.length > 0) await this.markMissingIn(em, missing.ids, missing.at);
    });
  }

  /**
   * SQLite: multi-row statements on the driver's connection, one a chunk of rows: FTS5 flushes its pending index
   * data at the start of every statement inside a transaction, so a statement a row would write (and then merge)
   * one index segment a row.
   */
  private writeBatchSqlite(rows: AdapterEntity[], missing: { ids: string[]; at: Date } | null): void {
    const metadata = this.dataSource.getMetadata(AdapterEntity);
    const driver = this.dataSource.driver as unknown as {
      preparePersistentValue(value: unknown, column: unknown): unknown;
      prepareHydratedValue(value: unknown, column: unknown): unknown;
    };
    const db = this.sqlite;
    const columns = metadata.columns;
    const userColumns = (this.userStateColumns ??= USER_STATE_COLUMNS.map((p) =>
      metadata.findColumnWithPropertyName(p)!,
    ));
    const hydrate = (raw: Record<string, unknown>): AdapterUserState & { id: string } => {
      const state: Record<string, unknown> = {};
      for (const c of userColumns) state[c.propertyName] = driver.prepareHydratedValue(raw[c.databaseName], c);
      return state as AdapterUserState & { id: string };
    };
    const statements = (this.sqliteStatements ??= new SqliteStatements(
      db,
      columns.map((c) => c.databaseName),
      userColumns.map((c) => c.databaseName),
    ));
    const toSqlite = (value: unknown): unknown => (typeof value === 'boolean' ? (value ? 1 : 0) : (value ?? null));
    // TypeORM's conversion (JSON, dates, booleans) only where a column needs one: plain text and numbers go
    // as they are, which saves ~40 driver calls a row.
    const values = (this.sqliteValues ??= columns.map((c): ((row: AdapterEntity) => unknown) => {
      const plain =
        typeof c.type === 'string' && PLAIN_SQLITE_TYPES.has(c.type) && !c.transformer && !c.embeddedMetadata;
      if (plain) return (row) => (row as unknown as Record<string, unknown>)[c.propertyName] ?? null;
      return (row) => toSqlite(driver.preparePersistentValue(c.getEntityValue(row), c));
    }));
    db.transaction(() => {
      const stored: (AdapterUserState & { id: string })[] = [];
      for (const ids of chunksForStatements(
        rows.map((r) => r.id),
        IDS_PER_STATEMENT,
      )) {
        for (const raw of statements.userState(ids.length).all(...ids))
          stored.push(hydrate(raw as Record<string, unknown>));
      }
      keepStoredUserStates(rows, stored);
      for (const part of chunksForStatements(rows)) {
        const params: unknown[] = [];
        for (const row of part) {
          for (const value of values) params.push(value(row));
        }
        statements.upsert(part.length).run(...params);
        const ids = part.map((r) => r.id);
        statements.deleteTags(ids.length).run(...ids);
        const pairs = part.flatMap((r) => r.tags.map((tag) => [r.id, tag]));
        for (const tagPart of chunksForStatements(pairs, TAG_PAIRS_PER_STATEMENT)) {
          statements.insertTags(tagPart.length).run(...tagPart.flat());
        }
      }
      if (missing) {
        const at = driver.preparePersistentValue(missing.at, metadata.findColumnWithPropertyName('missingSince'));
        for (const ids of chunksForStatements(missing.ids, IDS_PER_STATEMENT))
          statements.markMissing(ids.length).run(at, at, ...ids);
      }
    }).immediate();
  }

  private async upsertRows(em: EntityManager, rows: AdapterEntity[]): Promise<void> {
    if (rows.length === 0) return;
    const metadata = this.dataSource.getMetadata(AdapterEntity);
    const updateColumns = metadata.columns
      .map((c) => c.databaseName)
      .filter((name) => name !== 'id' && name !== 'created_at');
    for (const part of chunk(rows, ROWS_PER_STATEMENT)) {
      await em
        .createQueryBuilder()
        .insert()
        .into(AdapterEntity)
        .values(part as QueryDeepPartialEntity<AdapterEntity>[])
        .orUpdate(updateColumns, ['id'])
        .updateEntity(false)
        .execute();
    }
    const ids = rows.map((r) => r.id);
    for (const part of chunk(ids, 500)) await em.delete(AdapterTagEntity, { adapterId: In(part) });
    const tags = rows.flatMap((r) => r.tags.map((tag) => ({ adapterId: r.id, tag })));
    for (const part of chunk(tags, 2000)) {
      await em
        .createQueryBuilder()
        .insert()
        .into(AdapterTagEntity)
        .values(part)
        .orIgnore()
        .updateEntity(false)
        .execute();
    }
  }

  private async markMissingIn(em: EntityManager, ids: string[], at: Date): Promise<void> {
    for (const part of chunk(ids, 500)) {
      await em.update(AdapterEntity, { id: In(part), missingSince: IsNull() }, { missingSince: at, updatedAt: at });
    }
  }

  /** Writes a user's edit; when `tags` is given, the adapter's `adapter_tags` rows are rewritten in the same transaction. */
  async saveEdit(
    id: string,
    values: AdapterEditableColumns,
    tags: string[] | undefined,
    fields: readonly AdapterUserField[],
  ): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      await m.getRepository(AdapterEntity).update({ id }, values);
      if (tags) await this.replaceTags(m, id, tags);
      await this.recordEdits(m, [{ id, name: values.name }], AdapterEditAction.Edit, fields, values.updatedAt);
    });
  }

  /** Deletes adapters and their tag rows; returns the ids that existed. */
  async deleteMany(ids: readonly string[], now = new Date()): Promise<string[]> {
    return this.dataSource.transaction(async (m) => {
      const existing = await this.existing(m, ids);
      await this.recordEdits(m, existing, AdapterEditAction.Delete, [], now);
      for (const part of chunk(
        existing.map((e) => e.id),
        IDS_PER_STATEMENT,
      )) {
        await m.getRepository(AdapterTagEntity).delete({ adapterId: In(part) });
        await m.getRepository(AdapterEntity).delete({ id: In(part) });
      }
      return existing.map((e) => e.id);
    });
  }

  /**
   * Sets a boolean user field on many adapters in one transaction and records it in `userEdited`. Rows are
   * grouped by their resulting `userEdited` list, so the update costs a few statements, not one per row.
   */
  async setFlag(
    ids: readonly string[],
    field: 'active' | 'favorite',
    value: boolean,
    edited: AdapterUserField,
    now: Date,
  ): Promise<string[]> {
    return this.dataSource.transaction(async (m) => {
      const existing = await this.existing(m, ids);
      const groups = new Map<string, { userEdited: AdapterUserField[]; ids: string[] }>();
      for (const row of existing) {
        const userEdited = row.userEdited.includes(edited) ? row.userEdited : [...row.userEdited, edited];
        const key = JSON.stringify(userEdited);
        const group = groups.get(key) ?? { userEdited, ids: [] };
        group.ids.push(row.id);
        groups.set(key, group);
      }
      for (const group of groups.values()) {
        for (const part of chunk(group.ids, IDS_PER_STATEMENT)) {
          await m
            .getRepository(AdapterEntity)
            .update({ id: In(part) }, { [field]: value, userEdited: group.userEdited, updatedAt: now });
        }
      }
      await this.recordEdits(m, existing, AdapterEditAction.Edit, [edited], now);
      return existing.map((e) => e.id);
    });
  }

  private async existing(
    m: EntityManager,
    ids: readonly string[],
  ): Promise<Pick<AdapterEntity, 'id' | 'name' | 'userEdited'>[]> {
    const out: Pick<AdapterEntity, 'id' | 'name' | 'userEdited'>[] = [];
    for (const part of chunk(ids, IDS_PER_STATEMENT)) {
      out.push(
        ...(await m
          .getRepository(AdapterEntity)
          .find({ select: { id: true, name: true, userEdited: true }, where: { id: In(part) } })),
      );
    }
    return out;
  }

  /** One `adapter_edits` row per adapter, in the edit's transaction (the activity feed's edits). */
  private async recordEdits(
    m: EntityManager,
    adapters: readonly Pick<AdapterEntity, 'id' | 'name'>[],
    action: AdapterEditAction,
    fields: readonly AdapterUserField[],
    at: Date,
  ): Promise<void> {
    const rows = adapters.map((a) => ({
      id: randomUUID(),
      adapterId: a.id,
      adapterName: a.name.slice(0, 512),
      action,
      fields: [...fields],
      createdAt: at,
    }));
    for (const part of chunk(rows, EDITS_PER_STATEMENT)) await m.getRepository(AdapterEditEntity).insert(part);
  }

  private async replaceTags(m: EntityManager, adapterId: string, tags: string[]): Promise<void> {
    const repo = m.getRepository(AdapterTagEntity);
    await repo.delete({ adapterId });
    for (const part of chunk(tags, IDS_PER_STATEMENT)) await repo.insert(part.map((tag) => ({ adapterId, tag })));
  }
}
