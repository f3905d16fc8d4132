import type { DataSource } from 'typeorm';

/**
 * The configuration's database (`DATA_DIR` or `DATABASE_URL`, set by the spec file before it loads anything) with
 * every entity and migration, initialized and migrated, as the product opens it. Loaded lazily: the entities' column
 * types depend on the configuration when they load.
 */
export async function openConfiguredDataSource(): Promise<DataSource> {
  const { buildDataSourceOptions, loadConfig, bindSqliteNumbers } = await import('@app/core');
  const { ENTITIES, MIGRATIONS } = await import('@app/migrations');
  const { DataSource } = await import('typeorm');
  const ds = bindSqliteNumbers(
    new DataSource(buildDataSourceOptions(loadConfig(), { entities: ENTITIES, migrations: MIGRATIONS })),
  );
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  return ds;
}
