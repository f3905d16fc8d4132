import type { DataSource } from 'typeorm';

/**
 * Rows of read statements kept in memory while an SQLite database is unchanged: a repeated search, count or
 * facet (a common term's relevance ranking is the costliest read of a large library) is answered from memory until
 * the next write. The version is the connection's `total_changes()` (every row its statements and their
 * triggers changed, committed or not) with `data_version` (commits of any other connection, e.g. a CLI
 * import); rows are kept only if the version did not move while they were read. Inside a transaction of the
 * shared connection (uncommitted rows could still roll back) nothing is cached. Least recently used entries go
 * first once `entries` are held; 0 entries turns the cache off.
 */
export class SqliteReadCache {
  private readonly rows = new Map<string, readonly unknown[]>();
  private version = '';

  constructor(
    private readonly dataSource: DataSource,
    private readonly entries: number,
  ) {}

  async read<T>(sql: string, params: unknown[]): Promise<T[]> {
    if (this.entries === 0 || this.inTransaction()) return this.query<T>(sql, params);
    const key = JSON.stringify([sql, params]);
    const before = await this.currentVersion();
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
    if ((await this.currentVersion()) === before && this.version === before && !this.inTransaction()) {
      this.rows.set(key, rows);
      if (this.rows.size > this.entries) this.rows.delete(this.rows.keys().next().value as string);
    }
    return rows;
  }

  private query<T>(sql: string, params: unknown[]): Promise<T[]> {
    return this.dataSource.query<T[]>(sql, params);
  }

  private inTransaction(): boolean {
    const driver = this.dataSource.driver as unknown as { databaseConnection?: { inTransaction?: boolean } };
    return driver.databaseConnection?.inTransaction !== false;
  }

  private async currentVersion(): Promise<string> {
    const [row] = await this.query<{ c: number; v: number }>(
      `SELECT total_changes() AS c, data_version AS v FROM pragma_data_version`,
      [],
    );
    return `${row?.c}:${row?.v}`;
  }
}
