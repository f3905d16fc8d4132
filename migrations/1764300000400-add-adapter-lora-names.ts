import { type MigrationInterface, type QueryRunner, TableIndex } from 'typeorm';
import { MigrationColumns } from '@app/core';

/**
 * The names a generator resolves a `<lora:…>` token by, indexed, so that composing a prompt finds every
 * file that claims the same name without scanning the library: the stem (A1111), the dot-mangled stem
 * (SD.Next) and the `ss_output_name` alias (A1111).
 */
export class AddAdapterLoraNames1764300000400 implements MigrationInterface {
  name = 'AddAdapterLoraNames1764300000400';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = new MigrationColumns(queryRunner);
    if (c.pg) {
      await queryRunner.addColumns('adapters', [
        c.column(c.varchar('lora_stem', { length: '512', default: "''" })),
        c.column(c.varchar('lora_name', { length: '512', default: "''" })),
        c.column(c.varchar('lora_alias', { length: '512', isNullable: true })),
      ]);
    } else {
      // Plain ALTER TABLE: TypeORM's SQLite addColumns rebuilds the table, which drops the full-text triggers
      // and renumbers the rowids the FTS5 index points at.
      await queryRunner.query(`ALTER TABLE "adapters" ADD COLUMN "lora_stem" varchar(512) NOT NULL DEFAULT ('')`);
      await queryRunner.query(`ALTER TABLE "adapters" ADD COLUMN "lora_name" varchar(512) NOT NULL DEFAULT ('')`);
      await queryRunner.query(`ALTER TABLE "adapters" ADD COLUMN "lora_alias" varchar(512)`);
    }
    // Rows imported before this migration: derive the names from the file name (alias left for the next resync).
    await queryRunner.query(
      `UPDATE "adapters" SET "lora_stem" = substr("file_name", 1, length("file_name") - 12), "lora_name" = replace(substr("file_name", 1, length("file_name") - 12), '.', '_')`,
    );
    await queryRunner.createIndex(
      'adapters',
      new TableIndex({ name: 'idx_adapters_lora_stem', columnNames: ['lora_stem'] }),
    );
    await queryRunner.createIndex(
      'adapters',
      new TableIndex({ name: 'idx_adapters_lora_name', columnNames: ['lora_name'] }),
    );
    await queryRunner.createIndex(
      'adapters',
      new TableIndex({ name: 'idx_adapters_lora_alias', columnNames: ['lora_alias'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "idx_adapters_lora_alias"`);
    await queryRunner.query(`DROP INDEX "idx_adapters_lora_name"`);
    await queryRunner.query(`DROP INDEX "idx_adapters_lora_stem"`);
    for (const column of ['lora_alias', 'lora_name', 'lora_stem']) {
      await queryRunner.query(`ALTER TABLE "adapters" DROP COLUMN "${column}"`);
    }
  }
}
