import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource } from 'typeorm';
import { type AppConfig, DatabaseType, databaseLocation } from '../config/app-config.js';
import { errorMessage } from '../errors/domain-error.js';

/** A process cannot start for a reason the operator fixes outside it; main.ts prints the message alone, no stack. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

interface DriverError {
  code?: string;
  errno?: number;
  address?: string;
  port?: number;
  message?: string;
}

/** Cause and fix, in words, for the ways a PostgreSQL connection fails at start. */
export function postgresStartProblem(url: string, error: unknown): string {
  const e = (error ?? {}) as DriverError;
  const target = new URL(url);
  const host = target.hostname || 'localhost';
  const port = target.port || '5432';
  const database = decodeURIComponent(target.pathname.replace(/^\//, '')) || target.username;
  const user = decodeURIComponent(target.username) || 'the current user';
  switch (e.code) {
    case '3D000':
      return `database "${database}" does not exist on ${host}:${port}: create it (createdb -h ${host} -p ${port}${target.username ? ` -U ${user}` : ''} ${database}, or CREATE DATABASE "${database}"), or point DATABASE_URL at an existing one`;
    case '28P01':
    case '28000':
      return `PostgreSQL on ${host}:${port} refused user "${user}" (${e.message ?? 'authentication failed'}): check the user and password in DATABASE_URL`;
    case 'ECONNREFUSED':
      return `connection refused to ${host}:${port}: start PostgreSQL there, or fix the host and port in DATABASE_URL`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host "${host}" not found: fix the host in DATABASE_URL`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no answer from ${host}:${port} (${e.code}): check that PostgreSQL runs there and a firewall lets it through`;
    default:
      if (/timeout/i.test(e.message ?? '')) {
        return `no answer from ${host}:${port} within 5 s: check that PostgreSQL runs there and a firewall lets it through`;
      }
      return `cannot connect to ${host}:${port}: ${errorMessage(error)}`;
  }
}

async function connectOnce(options: ConstructorParameters<typeof DataSource>[0]): Promise<void> {
  const probe = new DataSource(options);
  await probe.initialize();
  try {
    await probe.query('SELECT 1');
  } finally {
    await probe.destroy();
  }
}

/**
 * Opens the configured database once before the app boots, so that a missing or unreachable one ends the process
 * with one message saying the cause and the fix instead of Nest's retries and stack traces.
 */
export async function assertDatabaseReachable(config: AppConfig): Promise<void> {
  const where = databaseLocation(config);
  if (config.database.type === DatabaseType.Postgres) {
    const { url } = config.database;
    try {
      await connectOnce({
        type: 'postgres',
        url,
        connectTimeoutMS: 5000,
        extra: { max: 1, connectionTimeoutMillis: 5000 },
      });
    } catch (error) {
      throw new StartupError(`Database ${where}: ${postgresStartProblem(url, error)}`);
    }
    return;
  }
  const path = config.database.path;
  try {
    mkdirSync(dirname(path), { recursive: true });
    await connectOnce({ type: 'better-sqlite3', database: path });
  } catch (error) {
    const code = (error as DriverError).code;
    const fix =
      code === 'EACCES' || code === 'EPERM' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_READONLY'
        ? `this process cannot create or write it: fix the folder's permissions or set DATA_DIR to a writable folder`
        : 'check DATA_DIR (or the sqlite: path in DATABASE_URL)';
    throw new StartupError(`Database ${where}: ${errorMessage(error)}: ${fix}`);
  }
}
