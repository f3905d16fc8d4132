import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MigrationColumns } from '@app/core';

/** Old index (one column, every row), new index, sort column. */
const SORT_INDEXES = [
  ['idx_adapters_name', 'idx_adapters_name_present', 'sort_name'],
  ['idx_adapters_created', 'idx_adapters_created_present', 'created_at'],
  ['idx_adapters_updated', 'idx_adapters_updated_present', 'updated_at'],
  ['idx_adapters_downloads', 'idx_adapters_downloads_present', 'downloads'],
  ['idx_adapters_likes', 'idx_adapters_likes_present', 'likes'],
  ['idx_adapters_rating', 'idx_adapters_rating_present', 'rating'],
  ['idx_adapters_size', 'idx_adapters_size_present', 'file_size'],
] as const;

/**
 * Deep list pages stay fast: every sort column's index holds present adapters only (`WHERE missing_since IS
 * NULL`), in the exact order of a list page, tie-break included: `(column, id)` on PostgreSQL, and `(column)` on
 * SQLite, whose every index entry ends with the rowid, which is SQLite's tie-break (`AdapterQueryRepository`).
 *
 * A one-column index knows neither the tie-break nor the tombstones, so page N would read N × 50 rows; these
 * count off the offset inside the index. SQLite's tie-break is the rowid, not the 36-character id, which in seven
 * indexes would slow a cold import's writes by more than half; PostgreSQL stores ids in 16 bytes.
 *
 * Unrated adapters sort lowest (NULLS FIRST ascending, NULLS LAST descending). SQLite orders NULL lowest
 * already, and PostgreSQL's rating index says so, so that one index serves both directions.
 *
 * Tombstone lists (`missing=true`) are few rows, found through `idx_adapters_missing` and sorted.
 */
export class AdapterSortIndexes1764300001000 implements MigrationInterface {
  name = 'AdapterSortIndexes1764300001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const pg = new MigrationColumns(queryRunner).pg;
    for (const [old, index, column] of SORT_INDEXES) {
      const key = pg ? `"${column}"${column === 'rating' ? ' ASC NULLS FIRST' : ''}, "id"` : `"${column}"`;
      await queryRunner.query(`CREATE INDEX "${index}" ON "adapters" (${key}) WHERE "missing_since" IS NULL`);
      await queryRunner.query(`DROP INDEX "${old}"`);
    }
    await queryRunner.query(pg ? `ANALYZE "adapters"` : `ANALYZE`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [old, index, column] of SORT_INDEXES) {
      await queryRunner.query(`CREATE INDEX "${old}" ON "adapters" ("${column}")`);
      await queryRunner.query(`DROP INDEX "${index}"`);
    }
  }
}
