import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MigrationColumns } from '@app/core';

const ACTIVE_BY_DEFAULT = '"active" boolean NOT NULL DEFAULT (1)';
const INACTIVE_BY_DEFAULT = '"active" boolean NOT NULL DEFAULT (0)';

/** The better-sqlite3 handle under TypeORM's SQLite driver: only its defensive-mode switch is used. */
interface SqliteHandle {
  unsafeMode(on: boolean): void;
}

/**
 * New adapters start inactive: the default composition ("the active set") is what the user chose, not every LoRA
 * on disk. Only the column default changes; every existing row keeps its flag.
 */
export class AdapterInactiveByDefault1764300003000 implements MigrationInterface {
  name = 'AdapterInactiveByDefault1764300003000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await setActiveDefault(queryRunner, false);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await setActiveDefault(queryRunner, true);
  }
}

async function setActiveDefault(queryRunner: QueryRunner, active: boolean): Promise<void> {
  if (new MigrationColumns(queryRunner).pg) {
    await queryRunner.query(`ALTER TABLE "adapters" ALTER COLUMN "active" SET DEFAULT ${active}`);
    return;
  }
  const [from, to] = active ? [INACTIVE_BY_DEFAULT, ACTIVE_BY_DEFAULT] : [ACTIVE_BY_DEFAULT, INACTIVE_BY_DEFAULT];
  await rewriteSqliteTableSql(queryRunner, 'adapters', from, to);
}

/**
 * SQLite has no ALTER COLUMN: a default is changed by editing the table's stored CREATE statement, the procedure
 * SQLite documents for changes that leave the stored rows as they are (lang_altertable.html, "other kinds of table
 * schema changes"). TypeORM's own way rebuilds the table, and with it the full-text and facet-count triggers.
 */
async function rewriteSqliteTableSql(queryRunner: QueryRunner, table: string, from: string, to: string): Promise<void> {
  const [row] = (await queryRunner.query(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`, [
    table,
  ])) as { sql: string }[];
  if (!row?.sql.includes(from)) throw new Error(`${table}: the stored table definition has no ${from}`);
  const [{ schema_version: version }] = (await queryRunner.query('PRAGMA schema_version')) as {
    schema_version: number;
  }[];
  const handle = (queryRunner.connection.driver as unknown as { databaseConnection: SqliteHandle }).databaseConnection;
  // better-sqlite3 opens databases in SQLite's defensive mode, which forbids writing the schema table.
  handle.unsafeMode(true);
  try {
    await queryRunner.query('PRAGMA writable_schema = ON');
    await queryRunner.query(`UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?`, [
      row.sql.replace(from, to),
      table,
    ]);
    // A new schema version makes every connection read the changed definition again.
    await queryRunner.query(`PRAGMA schema_version = ${Number(version) + 1}`);
    await queryRunner.query('PRAGMA writable_schema = OFF');
  } finally {
    handle.unsafeMode(false);
  }
  const [check] = (await queryRunner.query('PRAGMA integrity_check')) as { integrity_check: string }[];
  if (check?.integrity_check !== 'ok')
    throw new Error(`${table}: integrity check after the change: ${check?.integrity_check}`);
}
