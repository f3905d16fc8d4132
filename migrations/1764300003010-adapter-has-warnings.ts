import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MigrationColumns } from '@app/core';

/**
 * `has_warnings`: whether an adapter's import left warnings (a broken sidecar, a hash that disagrees, …), indexed
 * for the `hasWarnings` filter; a JSON test on `warnings` would read every row. Existing rows are filled from their
 * warnings; nothing else of them changes.
 */
export class AdapterHasWarnings1764300003010 implements MigrationInterface {
  name = 'AdapterHasWarnings1764300003010';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = new MigrationColumns(queryRunner);
    if (c.pg) {
      await queryRunner.addColumn('adapters', c.column(c.bool('has_warnings', false)));
      await queryRunner.query(`UPDATE "adapters" SET "has_warnings" = true WHERE jsonb_array_length("warnings") > 0`);
    } else {
      // Plain ALTER TABLE (see migration 400): TypeORM's SQLite addColumn rebuilds the table.
      await queryRunner.query(`ALTER TABLE "adapters" ADD COLUMN "has_warnings" boolean NOT NULL DEFAULT (0)`);
      await queryRunner.query(`UPDATE "adapters" SET "has_warnings" = 1 WHERE json_array_length("warnings") > 0`);
    }
    await queryRunner.query(`CREATE INDEX "idx_adapters_has_warnings" ON "adapters" ("has_warnings")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "idx_adapters_has_warnings"`);
    await queryRunner.query(`ALTER TABLE "adapters" DROP COLUMN "has_warnings"`);
  }
}
