import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { Redis } from 'ioredis';

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A fresh PostgreSQL database for one test file; drop it with the returned function. */
export async function createTestDatabase(label: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `lm_${label}_${process.pid}_${randomBytes(3).toString('hex')}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A database of its own for one test file and dialect: a fresh PostgreSQL database, or a SQLite file in `dir`. */
export async function createDialectDatabase(
  isPg: boolean,
  label: string,
  dir: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  return isPg ? createTestDatabase(label) : { url: `sqlite:${join(dir, 'db.sqlite')}`, drop: () => Promise.resolve() };
}

/** A data source (not yet initialised) with no entity on a `postgres://…` or `sqlite:…` URL, knowing these migrations. */
export function dataSourceAt(url: string, migrations: NonNullable<DataSourceOptions['migrations']> = []): DataSource {
  return new DataSource(
    url.startsWith('sqlite:')
      ? { type: 'better-sqlite3', database: url.slice('sqlite:'.length), migrations, entities: [] }
      : { type: 'postgres', url, migrations, entities: [] },
  );
}

/** Runs these migrations (and no entity) against a `postgres://…` or `sqlite:…` URL, each in its own transaction. */
export async function runMigrationsAt(
  url: string,
  migrations: NonNullable<DataSourceOptions['migrations']>,
): Promise<void> {
  const ds = dataSourceAt(url, migrations);
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
}

/** A Redis key prefix of its own for one test file; clears its keys afterwards. */
export function createRedisPrefix(label: string): { prefix: string; clear: () => Promise<void> } {
  const prefix = `lmtest-${label}-${process.pid}-${randomBytes(3).toString('hex')}`;
  return {
    prefix,
    clear: async () => {
      const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
      try {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await redis.del(...keys);
        } while (cursor !== '0');
      } finally {
        redis.disconnect();
      }
    },
  };
}

export function tempDir(label: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `lm-${label}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Waits until `check` holds, polling every `everyMs`; fails with `what` after `timeoutMs`. Returns the wait in ms. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
