import type { DataSource } from 'typeorm';

type Escape = (sql: string, parameters: Record<string, unknown> | undefined) => [string, unknown[]];

/**
 * A parameter as better-sqlite3 should bind it: an integer as an INTEGER (a BigInt: a plain number binds as a REAL),
 * anything else as it is.
 */
export function sqliteParameter(value: unknown): unknown {
  return typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : value;
}

/** A number on its way through TypeORM's escaping, so that it is bound instead of written into the SQL. */
class BoundNumber {
  constructor(readonly value: number) {}
}

/**
 * TypeORM's SQLite driver writes every number parameter into the statement's text (`"seed" = 3570417648`), so each
 * distinct value is a distinct statement: better-sqlite3 compiles it again, and the query runner's statement cache (100
 * statements, first in first out) fills with statements used once and drops the ones every request uses. A generation
 * alone wrote two such statements (its seed, its result's size). This binds numbers as parameters instead.
 *
 * An integer binds as a BigInt, which better-sqlite3 binds as an INTEGER: a plain JavaScript number would bind as a
 * REAL, and a REAL stored in a text column reads back as "1.0" where the literal gave "1". Numbers inside an `IN (...)`
 * list were already bound and are left as they are.
 */
export function bindSqliteNumbers(dataSource: DataSource): DataSource {
  const driver = dataSource.driver as unknown as { escapeQueryWithParameters: Escape };
  const escape = driver.escapeQueryWithParameters.bind(driver);
  driver.escapeQueryWithParameters = (sql, parameters) => {
    if (!parameters) return escape(sql, parameters);
    const boxed: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(parameters))
      boxed[key] = typeof value === 'number' && Number.isFinite(value) ? new BoundNumber(value) : value;
    const [text, values] = escape(sql, boxed);
    return [text, values.map((v) => (v instanceof BoundNumber ? sqliteParameter(v.value) : v))];
  };
  return dataSource;
}
