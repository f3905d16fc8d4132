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
    await queryRunner.addColumns('adapters', [
      c.column(c.varchar('lora_stem', { length: '512', default: "''" })),
      c.column(c.varchar('lora_name', { length: '512', default: "''" })),
      c.column(c.varchar('lora_alias', { length: '512', isNullable: true })),
    ]);
    // Rows imported before this migration: derive the names from the file name (alias left for the next resync).
    await queryRunner.query(
      `UPDATE "adapters" SET "lora_stem" = substr("file_name", 1, length("file_name") - 12), "lora_name" = replace(substr("file_name", 1, length("file_name") - 12), '.', '_')`,
    );
    await queryRunner.createIndex('adapters', new TableIndex({ name: 'idx_adapters_lora_stem', columnNames: ['lora_stem'] }));
    await queryRunner.createIndex('adapters', new TableIndex({ name: 'idx_adapters_lora_name', columnNames: ['lora_name'] }));
    await queryRunner.createIndex('adapters', new TableIndex({ name: 'idx_adapters_lora_alias', columnNames: ['lora_alias'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('adapters', 'idx_adapters_lora_alias');
    await queryRunner.dropIndex('adapters', 'idx_adapters_lora_name');
    await queryRunner.dropIndex('adapters', 'idx_adapters_lora_stem');
    await queryRunner.dropColumns('adapters', ['lora_alias', 'lora_name', 'lora_stem']);
  }
}
