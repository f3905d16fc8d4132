import { DataSource } from 'typeorm';

/**
 * Runs every migration on a fresh database, then asks TypeORM what it would change to match the entities.
 * Empty means the migrations and the entities agree.
 */
export async function migrateAndDiff(): Promise<{ applied: string[]; pending: string[]; tables: string[] }> {
  const { loadConfig } = await import('@app/core');
  const { dataSourceOptions } = await import('@app/migrations');
  const dataSource = new DataSource(dataSourceOptions(loadConfig()));
  await dataSource.initialize();
  try {
    const applied = (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
    const log = await dataSource.driver.createSchemaBuilder().log();
    const pending = log.upQueries.map((q) => q.query);
    const tables = (await dataSource.createQueryRunner().getTables()).map((t) => t.name);
    return { applied, pending, tables };
  } finally {
    await dataSource.destroy();
  }
}
