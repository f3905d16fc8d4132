import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DataSourceOptions, EntitySchema, MigrationInterface } from 'typeorm';
import { type AppConfig, DatabaseType } from '../config/app-config.js';

// TypeORM accepts entity classes as arbitrary constructors.
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type EntityList = (Function | EntitySchema)[];
export type MigrationList = (new () => MigrationInterface)[];

/**
 * The one options object used by Nest, the CLI's `migrate` and the TypeORM CLI. Entities and migrations are
 * passed as class arrays (never globs) so that tsc output and Jest behave alike.
 */
export function buildDataSourceOptions(
  config: AppConfig,
  parts: { entities: EntityList; migrations: MigrationList },
): DataSourceOptions {
  const common = {
    entities: parts.entities,
    migrations: parts.migrations,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    logging: false,
  } as const;
  if (config.database.type === DatabaseType.Postgres) {
    return {
      ...common,
      type: 'postgres',
      url: config.database.url,
      schema: config.database.schema,
      // A short connect timeout lets /health/ready report an outage instead of hanging.
      connectTimeoutMS: 5000,
      extra: {
        max: 10,
        connectionTimeoutMillis: 5000,
        // TypeORM names the schema only in the statements it builds; the search path makes the migrations' and the
        // repositories' own SQL use it too (then public, where a shared database keeps its extensions).
        ...(config.database.schema ? { options: `-c search_path=${config.database.schema},public` } : {}),
      },
    };
  }
  mkdirSync(dirname(config.database.path), { recursive: true });
  return {
    ...common,
    type: 'better-sqlite3',
    database: config.database.path,
    enableWAL: true,
    prepareDatabase: (db: { pragma: (sql: string) => unknown }) => {
      db.pragma('busy_timeout = 5000');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      // Library queries read large indexes (100,000 adapters): a 64 MiB page cache per connection (default 2 MiB)
      // and memory-mapped reads keep them off the read() path.
      db.pragma('cache_size = -65536');
      db.pragma('mmap_size = 268435456');
    },
  };
}
