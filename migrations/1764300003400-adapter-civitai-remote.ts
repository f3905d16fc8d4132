import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MigrationColumns } from '@app/core';

/**
 * `civitai_remote`: Civitai's answer to a lookup by the file's hash, merged like a `.civitai.info` on every read, and
 * `civitai_checked_at`: when Civitai was last asked (a "not on Civitai" answer is not asked again for a while).
 */
export class AdapterCivitaiRemote1764300003400 implements MigrationInterface {
  name = 'AdapterCivitaiRemote1764300003400';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = new MigrationColumns(queryRunner);
    if (c.pg) {
      await queryRunner.addColumn('adapters', c.column(c.json('civitai_remote', { isNullable: true })));
      await queryRunner.addColumn('adapters', c.column(c.timestamp('civitai_checked_at', { isNullable: true })));
    } else {
      // Plain ALTER TABLE (see migration 400): TypeORM's SQLite addColumn rebuilds the table.
      await queryRunner.query(`ALTER TABLE "adapters" ADD COLUMN "civitai_remote" text`);
      await queryRunner.query(`ALTER TABLE "adapters" ADD COLUMN "civitai_checked_at" datetime`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "adapters" DROP COLUMN "civitai_checked_at"`);
    await queryRunner.query(`ALTER TABLE "adapters" DROP COLUMN "civitai_remote"`);
  }
}
