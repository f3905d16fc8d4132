import type { DataSource } from 'typeorm';

/** The part of better-sqlite3's connection the cache uses. */
interface SqliteConnection {
  inTransaction?: boolean;
  prepare(sql: string): { pluck(pluck: boolean): { get(): unknown } };
}

/**
 * Rows of read statements kept in memory while an SQLite database is unchanged: a repeated search, count or
 * facet (a common term's relevance ranking is the costliest read of a large library) is answered from memory until
 * the next write. The version is the connection's `total_changes()` (every row its statements and their
 * triggers changed, committed or not) with `data_version` (commits of any other connection, e.g. a CLI
 * import). The version is read before the statement, never after: rows are at least as new as the version they are
 * kept under, and a write in between moves the version, so the next read drops them. Inside a transaction of the
 * shared connection (uncommitted rows could still roll back) nothing is cached. Least recently used entries go
 * first once `entries` are held; 0 entries turns the cache off.
 */
export class SqliteReadCache {
  private readonly rows = new Map<string, readonly unknown[]>();
  private version = '';
  /** The version statement, prepared once per connection (it runs before every read). */
  private versionStatement?: { connection: SqliteConnection; get(): string };

  constructor(
    private readonly dataSource: DataSource,
    private readonly entries: number,
  ) {}

  /** Whether reads are kept (false with 0 entries: every read runs its statement and returns new rows). */
  get enabled(): boolean {
    return this.entries > 0;
  }

  async read<T>(sql: string, params: unknown[]): Promise<T[]> {
    // No connection yet, or a transaction of the shared one: read, keep nothing.
    const connection = this.connection();
    if (this.entries === 0 || connection?.inTransaction !== false) return this.query<T>(sql, params);
    const key = JSON.stringify([sql, params]);
    const before = this.currentVersion(connection);
    if (before !== this.version) {
      this.rows.clear();
      this.version = before;
    }
    const hit = this.rows.get(key);
    if (hit) {
      // Most recently used last.
      this.rows.delete(key);
      this.rows.set(key, hit);
      return hit as T[];
    }
    const rows = await this.query<T>(sql, params);
    if (this.version === before && connection.inTransaction === false) {
      this.rows.set(key, rows);
      if (this.rows.size > this.entries) this.rows.delete(this.rows.keys().next().value as string);
    }
    return rows;
  }

  private query<T>(sql: string, params: unknown[]): Promise<T[]> {
    return this.dataSource.query<T[]>(sql, params);
  }

  private connection(): SqliteConnection | undefined {
    return (this.dataSource.driver as unknown as { databaseConnection?: SqliteConnection }).databaseConnection;
  }

  /**
   * On the driver's connection directly: statements of a few microseconds, not a TypeORM query runner's round. Two
   * prepared statements (`PRAGMA data_version` ~1.9 µs, `total_changes()` ~0.07 µs) cost less than one read of the
   * `pragma_data_version` table-valued function (~3 µs).
   */
  private currentVersion(connection: SqliteConnection): string {
    if (this.versionStatement?.connection !== connection) {
      const changes = connection.prepare('SELECT total_changes()').pluck(true);
      const dataVersion = connection.prepare('PRAGMA data_version').pluck(true);
      this.versionStatement = { connection, get: () => `${changes.get() as number}:${dataVersion.get() as number}` };
    }
    return this.versionStatement.get();
  }
}
