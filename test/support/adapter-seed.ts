// Fast, dialect-aware seeding of `adapters` / `adapter_tags` rows with raw multi-row inserts, for query tests
// and the query benchmark. It mirrors the importer's derived columns through the lib's own pure helpers.
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import pg from 'pg';
import { nsfwMaxOf, normaliseTags, searchTextOf } from '../../libs/adapters/src/library/adapter-fields.js';

export interface SeedAdapter {
  id?: string;
  rootId: string;
  relativePath: string;
  name: string;
  baseModel?: string;
  modelType?: string;
  creator?: string | null;
  tags?: string[];
  trainedWords?: string[];
  triggerWords?: string[];
  nsfwLevel?: number;
  nsfwOverride?: number | null;
  downloads?: number;
  likes?: number;
  rating?: number | null;
  fileSize?: number;
  sha256?: string | null;
  /** The hash was computed from the file (default: false, a sidecar's claim). */
  sha256Verified?: boolean;
  civitaiModelId?: number | null;
  previewPath?: string | null;
  /** Import warnings; when given, `has_warnings` is written too (a column since migration 1764300003010). */
  warnings?: string[];
  active?: boolean;
  favorite?: boolean;
  ordinal?: number | null;
  missingSince?: Date | null;
  createdAt?: Date;
  updatedAt?: Date;
}

/** A small adapter of one root for trigger tests: file `<key>.safetensors`, named `key`, SDXL 1.0 unless `extra` says. */
export function adapterSpec(key: string, tags: string[], extra: Partial<SeedAdapter> = {}): SeedAdapter {
  return {
    rootId: 'root00000001',
    relativePath: `${key}.safetensors`,
    name: key,
    baseModel: 'SDXL 1.0',
    tags,
    ...extra,
  };
}

/** `extra` for an adapter written already tombstoned. */
export const TOMBSTONED: Partial<SeedAdapter> = { missingSince: new Date(Date.UTC(2025, 0, 1)) };

export interface SeedDb {
  readonly pg: boolean;
  exec(sql: string, params: unknown[]): Promise<void>;
  transaction(work: () => Promise<void>): Promise<void>;
  query<T>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

/** `DATABASE_URL` of the app under test: `postgres://…`, or `sqlite:<path>`. */
export async function openSeedDb(url: string): Promise<SeedDb> {
  if (url.startsWith('postgres')) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return {
      pg: true,
      exec: async (sql, params) => void (await client.query(sql, params)),
      transaction: async (work) => {
        await client.query('BEGIN');
        try {
          await work();
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK');
          throw e;
        }
      },
      query: async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
      close: () => client.end(),
    };
  }
  const db = new Database(url.slice('sqlite:'.length));
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  return {
    pg: false,
    exec: (sql, params) => {
      db.prepare(sql).run(...params);
      return Promise.resolve();
    },
    transaction: async (work) => {
      db.exec('BEGIN');
      try {
        await work();
        db.exec('COMMIT');
      } catch (e) {
        db.exec('ROLLBACK');
        throw e;
      }
    },
    query: <T>(sql: string, params: unknown[] = []) => Promise.resolve(db.prepare(sql).all(...params) as T[]),
    close: () => {
      db.close();
      return Promise.resolve();
    },
  };
}

/** TypeORM's SQLite datetime text: UTC `YYYY-MM-DD HH:MM:SS.SSS`. */
const sqliteTime = (d: Date): string => d.toISOString().replace('T', ' ').replace('Z', '');

/** One `adapters` row as column → value, in the form the dialect stores. */
export function adapterColumns(a: SeedAdapter, isPg: boolean): Record<string, unknown> {
  const now = new Date('2025-01-01T00:00:00Z');
  const fileName = a.relativePath.split('/').pop() ?? a.relativePath;
  const folder = a.relativePath.includes('/') ? a.relativePath.slice(0, a.relativePath.lastIndexOf('/')) : '';
  const tags = normaliseTags(a.tags ?? []);
  const json = (v: unknown): string => JSON.stringify(v);
  const bool = (v: boolean): boolean | number => (isPg ? v : v ? 1 : 0);
  const time = (d: Date | null | undefined): string | null => (d ? (isPg ? d.toISOString() : sqliteTime(d)) : null);
  const nsfwLevel = a.nsfwLevel ?? 0;
  return {
    id: a.id ?? randomUUID(),
    root_id: a.rootId,
    relative_path: a.relativePath,
    folder,
    file_name: fileName,
    file_size: a.fileSize ?? 1000,
    file_mtime_ms: 1_700_000_000_000,
    sha256: a.sha256 ?? null,
    // Only when given: the trigger tests seed at migrations from before the column (1764300001100).
    ...(a.sha256Verified === undefined ? {} : { sha256_verified: bool(a.sha256Verified) }),
    name: a.name,
    sort_name: a.name.toLowerCase(),
    creator: a.creator ?? null,
    civitai_model_id: a.civitaiModelId ?? null,
    civitai_lookup: 'unknown',
    base_model: a.baseModel ?? 'SD 1.5',
    model_type: a.modelType ?? 'LORA',
    tags: json(tags),
    trained_words: json(a.trainedWords ?? []),
    trigger_words: json(a.triggerWords ?? []),
    nsfw_level: nsfwLevel,
    nsfw_override: a.nsfwOverride ?? null,
    nsfw_max: nsfwMaxOf(nsfwLevel, a.nsfwOverride ?? null),
    downloads: a.downloads ?? 0,
    likes: a.likes ?? 0,
    rating: a.rating ?? null,
    preview_path: a.previewPath ?? null,
    has_preview: bool(Boolean(a.previewPath)),
    header_metadata: json({}),
    sidecars: json([]),
    unmapped: json({}),
    images: json([]),
    warnings: json(a.warnings ?? []),
    ...(a.warnings === undefined ? {} : { has_warnings: bool(a.warnings.length > 0) }),
    search_text: searchTextOf({
      name: a.name,
      fileName,
      creator: a.creator ?? null,
      trainedWords: a.trainedWords ?? [],
      triggerWords: a.triggerWords ?? [],
      tags,
    }),
    favorite: bool(a.favorite ?? false),
    active: bool(a.active ?? true),
    ordinal: a.ordinal ?? null,
    user_edited: json([]),
    missing_since: time(a.missingSince),
    last_ingested_at: time(now),
    created_at: time(a.createdAt ?? now),
    updated_at: time(a.updatedAt ?? a.createdAt ?? now),
  };
}

export async function insertRows(db: SeedDb, table: string, rows: Record<string, unknown>[]): Promise<void> {
  // Rows that set different columns (an optional one left to its default) go in separate statements.
  const bySignature = new Map<string, Record<string, unknown>[]>();
  for (const row of rows) {
    const signature = Object.keys(row).join(',');
    const group = bySignature.get(signature);
    if (group) group.push(row);
    else bySignature.set(signature, [row]);
  }
  if (bySignature.size > 1) {
    for (const group of bySignature.values()) await insertRows(db, table, group);
    return;
  }
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]);
  const perStatement = Math.max(1, Math.floor(30_000 / columns.length));
  for (let i = 0; i < rows.length; i += perStatement) {
    const part = rows.slice(i, i + perStatement);
    const params: unknown[] = [];
    const tuples = part.map((row) => {
      const marks = columns.map((c) => {
        params.push(row[c]);
        return db.pg ? `$${params.length}` : '?';
      });
      return `(${marks.join(', ')})`;
    });
    await db.exec(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')}`, params);
  }
}

/** Inserts adapters and their tag rows in one transaction; returns the ids in input order. */
export async function seedAdapters(db: SeedDb, adapters: SeedAdapter[]): Promise<string[]> {
  const rows = adapters.map((a) => adapterColumns(a, db.pg));
  const tagRows = rows.flatMap((r) =>
    (JSON.parse(r.tags as string) as string[]).map((tag) => ({ adapter_id: r.id, tag })),
  );
  await db.transaction(async () => {
    await insertRows(db, 'adapters', rows);
    await insertRows(db, 'adapter_tags', tagRows);
  });
  return rows.map((r) => r.id as string);
}

/** A seed adapter under the test root `root00000001` (`<key>.safetensors`, SDXL 1.0 unless `extra` says otherwise). */
export const seedSpec = (key: string, name: string, tags: string[], extra: Partial<SeedAdapter> = {}): SeedAdapter => ({
  rootId: 'root00000001',
  relativePath: `${key}.safetensors`,
  name,
  baseModel: 'SDXL 1.0',
  tags,
  ...extra,
});
