import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MigrationColumns } from '@app/core';

/**
 * Whether an adapter's SHA-256 was computed from its bytes (true) or is only what a sidecar claims (false).
 * A claim is often right, but trusting it made other tools report false duplicates (LoRA-Manager #221) and
 * would let the importer reuse a claim as a cached file hash. Rows from before this migration are marked
 * unverified: nothing recorded which of their hashes were computed, and the cost is one re-hash the next time
 * `import --hash full` (or a change to the file) reads them.
 */
export class AdapterSha256Verified1764300001100 implements MigrationInterface {
  name = 'AdapterSha256Verified1764300001100';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = new MigrationColumns(queryRunner);
    if (c.pg) {
      await queryRunner.addColumn('adapters', c.column(c.bool('sha256_verified', false)));
    } else {
      // Plain ALTER TABLE (see migration 400): TypeORM's SQLite addColumn rebuilds the table.
      await queryRunner.query(`ALTER TABLE "adapters" ADD COLUMN "sha256_verified" boolean NOT NULL DEFAULT (0)`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "adapters" DROP COLUMN "sha256_verified"`);
  }
}
