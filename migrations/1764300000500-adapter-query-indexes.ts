import { type MigrationInterface, type QueryRunner, TableIndex } from 'typeorm';
import { MigrationColumns } from '@app/core';

/** The SQLite FTS triggers of 1764300000100; TypeORM drops a table's triggers when it rebuilds the table. */
const FTS_TRIGGERS = [
  `CREATE TRIGGER IF NOT EXISTS "adapters_fts_ai" AFTER INSERT ON "adapters" BEGIN INSERT INTO "adapters_fts"(rowid, search_text) VALUES (new.rowid, new.search_text); END`,
  `CREATE TRIGGER IF NOT EXISTS "adapters_fts_ad" AFTER DELETE ON "adapters" BEGIN INSERT INTO "adapters_fts"("adapters_fts", rowid, search_text) VALUES ('delete', old.rowid, old.search_text); END`,
  `CREATE TRIGGER IF NOT EXISTS "adapters_fts_au" AFTER UPDATE OF search_text ON "adapters" BEGIN INSERT INTO "adapters_fts"("adapters_fts", rowid, search_text) VALUES ('delete', old.rowid, old.search_text); INSERT INTO "adapters_fts"(rowid, search_text) VALUES (new.rowid, new.search_text); END`,
];

/**
 * Query speed at 100,000 adapters, and a repair.
 * - Repair (SQLite): 1764300000400 added columns to `adapters`, which TypeORM does on SQLite by rebuilding the
 *   table; that dropped the FTS triggers and renumbered rowids, so search missed every adapter written since.
 *   The triggers are recreated and the FTS index is rebuilt from the table. A later migration that rebuilds
 *   `adapters` on SQLite must recreate them too.
 * - `adapter_tags (tag, adapter_id)` replaces `(tag)`: tag filters and tag counts read the index alone.
 */
export class AdapterQueryIndexes1764300000500 implements MigrationInterface {
  name = 'AdapterQueryIndexes1764300000500';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = new MigrationColumns(queryRunner);
    await queryRunner.dropIndex('adapter_tags', 'idx_adapter_tags_tag');
    await queryRunner.createIndex(
      'adapter_tags',
      new TableIndex({ name: 'idx_adapter_tags_tag_adapter', columnNames: ['tag', 'adapter_id'] }),
    );
    if (!c.pg) {
      for (const sql of FTS_TRIGGERS) await queryRunner.query(sql);
      await queryRunner.query(`INSERT INTO "adapters_fts"("adapters_fts") VALUES ('rebuild')`);
      await queryRunner.query(`ANALYZE`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('adapter_tags', 'idx_adapter_tags_tag_adapter');
    await queryRunner.createIndex(
      'adapter_tags',
      new TableIndex({ name: 'idx_adapter_tags_tag', columnNames: ['tag'] }),
    );
  }
}
