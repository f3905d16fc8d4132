import type { DataSource } from 'typeorm';

/**
 * Builds one raw statement's parameters for either database: `?` on SQLite, `$n` on PostgreSQL. Times are bound as
 * the database compares them: SQLite keeps TypeORM's `YYYY-MM-DD HH:MM:SS.SSS` UTC text.
 */
export class SqlParams {
  readonly values: unknown[] = [];

  constructor(readonly pg: boolean) {}

  add(value: unknown): string {
    this.values.push(value);
    return this.pg ? `$${this.values.length}` : '?';
  }

  time(value: Date): string {
    return this.add(this.pg ? value : sqliteTime(value));
  }
}

export const isPostgres = (dataSource: DataSource): boolean => dataSource.options.type === 'postgres';

export const sqliteTime = (value: Date): string => value.toISOString().replace('T', ' ').replace('Z', '');

/** A time read back from a raw query: a Date from PostgreSQL, UTC text from SQLite. */
export function readTime(value: unknown): Date {
  if (value instanceof Date) return value;
  const text = String(value);
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
}

/** A nullable number read back from a raw query (PostgreSQL sends numeric and bigint as strings). */
export const readNumber = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value);

/** A nullable text read back from a raw query. */
export const readText = (value: unknown): string | null =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null;
