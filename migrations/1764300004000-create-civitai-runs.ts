import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { MigrationColumns } from '@app/core';

/**
 * `civitai_runs`: bulk lookups and update checks (targets, counts, failures), one row per run; `civitai_updates`: what
 * the last update check found for each linked adapter (the newer versions of its model).
 */
export class CreateCivitaiRuns1764300004000 implements MigrationInterface {
  name = 'CreateCivitaiRuns1764300004000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = new MigrationColumns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'civitai_runs',
        columns: [
          c.id(),
          c.varchar('kind', { length: '16' }),
          c.varchar('status', { length: '16' }),
          c.varchar('trigger', { length: '16' }),
          c.json('scope'),
          c.json('targets', { isNullable: true }),
          c.json('counts'),
          c.json('failures'),
          c.text('error', { isNullable: true }),
          c.timestamp('created_at'),
          c.timestamp('started_at', { isNullable: true }),
          c.timestamp('finished_at', { isNullable: true }),
        ],
      }),
    );
    await queryRunner.createIndex(
      'civitai_runs',
      new TableIndex({ name: 'idx_civitai_runs_created', columnNames: ['created_at'] }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'civitai_updates',
        columns: [
          c.uuid('adapter_id', { isPrimary: true }),
          c.int('model_id'),
          c.int('version_id', { isNullable: true }),
          c.json('newer'),
          c.bool('has_update', false),
          c.timestamp('checked_at'),
        ],
      }),
    );
    await queryRunner.createIndex(
      'civitai_updates',
      new TableIndex({ name: 'idx_civitai_updates_has_update', columnNames: ['has_update'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('civitai_updates');
    await queryRunner.dropTable('civitai_runs');
  }
}
