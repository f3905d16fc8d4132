import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MigrationColumns } from '@app/core';

/**
 * `facts_digest`: a SHA-256 of what the files say about an adapter, so a resync that re-reads a touched file
 * and finds the same facts counts it unchanged instead of updated. Rows written before it have none and count
 * as updated once, at their next re-read.
 */
export class AdapterFactsDigest1764300002500 implements MigrationInterface {
  name = 'AdapterFactsDigest1764300002500';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = new MigrationColumns(queryRunner);
    if (c.pg) {
      await queryRunner.addColumn('adapters', c.column(c.varchar('facts_digest', { length: '64', isNullable: true })));
    } else {
      // Plain ALTER TABLE (see migration 400): TypeORM's SQLite addColumn rebuilds the table.
      await queryRunner.query(`ALTER TABLE "adapters" ADD COLUMN "facts_digest" varchar(64)`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "adapters" DROP COLUMN "facts_digest"`);
  }
}
