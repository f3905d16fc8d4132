import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { MigrationColumns } from '@app/core';

/** `civitai_downloads`: downloads of Civitai model versions into library folders, one row per download. */
export class CreateCivitaiDownloads1764300004100 implements MigrationInterface {
  name = 'CreateCivitaiDownloads1764300004100';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = new MigrationColumns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'civitai_downloads',
        columns: [
          c.id(),
          c.varchar('status', { length: '16' }),
          c.int('model_id', { isNullable: true }),
          c.int('version_id'),
          c.varchar('root_id', { length: '12' }),
          c.text('relative_path'),
          c.varchar('expected_sha256', { length: '64' }),
          c.bigint('bytes_done'),
          c.bigint('bytes_total', { isNullable: true }),
          c.bigint('bytes_fetched'),
          c.varchar('etag', { length: '256', isNullable: true }),
          c.uuid('adapter_id', { isNullable: true }),
          c.text('error', { isNullable: true }),
          c.timestamp('created_at'),
          c.timestamp('started_at', { isNullable: true }),
          c.timestamp('finished_at', { isNullable: true }),
        ],
      }),
    );
    await queryRunner.createIndex(
      'civitai_downloads',
      new TableIndex({ name: 'idx_civitai_downloads_created', columnNames: ['created_at'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('civitai_downloads');
  }
}
