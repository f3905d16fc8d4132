import Database from 'better-sqlite3';
import pg from 'pg';

/** Reads rows straight from the product's database, as an operator would, to check what the app wrote. */
export async function queryRows<T = Record<string, unknown>>(
  databaseUrl: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  if (databaseUrl.startsWith('postgres')) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      // `?` placeholders in the shared SQL become `$1…` for PostgreSQL.
      let i = 0;
      const text = sql.replace(/\?/g, () => `$${++i}`);
      return (await client.query(text, params)).rows as T[];
    } finally {
      await client.end();
    }
  }
  const db = new Database(databaseUrl.replace(/^sqlite:/, ''), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

export async function execute(databaseUrl: string, sql: string, params: unknown[] = []): Promise<void> {
  if (databaseUrl.startsWith('postgres')) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      let i = 0;
      await client.query(
        sql.replace(/\?/g, () => `$${++i}`),
        params,
      );
    } finally {
      await client.end();
    }
    return;
  }
  const db = new Database(databaseUrl.replace(/^sqlite:/, ''), { fileMustExist: true });
  try {
    db.prepare(sql).run(...params);
  } finally {
    db.close();
  }
}
