import type { DataSource, DataSourceOptions } from 'typeorm';

/** A PostgreSQL data source with one pooled connection, and plain SQL run on that connection. */
export interface OneConnection {
  dataSource: DataSource;
  rows<T>(sql: string): Promise<T[]>;
  /** Plan counts of the connection's prepared statements whose text is LIKE `pattern` (`pg_prepared_statements`). */
  plans(pattern: string): Promise<{ generic: number; custom: number }[]>;
}

/**
 * PostgreSQL: a data source like `options` with one pooled connection, so that the server's list of prepared
 * statements (kept per connection) holds exactly what the test ran through it. Destroy `dataSource` after use.
 */
export async function openOneConnection(options: DataSourceOptions): Promise<OneConnection> {
  const { DataSource } = await import('typeorm');
  const dataSource = new DataSource({ ...options, extra: { ...options.extra, max: 1 } });
  await dataSource.initialize();
  const pool = (dataSource.driver as unknown as { master: { query(text: string): Promise<{ rows: unknown[] }> } })
    .master;
  const rows = async <T>(sql: string) => (await pool.query(sql)).rows as T[];
  return {
    dataSource,
    rows,
    plans: (pattern) =>
      rows(
        `SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements ` +
          `WHERE statement LIKE '${pattern.replaceAll("'", "''")}'`,
      ),
  };
}
