import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { MigrationColumns } from '@app/core';

/** `hash_runs`: the background hash job's runs (counts, failures), one row per run. */
export class CreateHashRuns1764300003300 implements MigrationInterface {
  name = 'CreateHashRuns1764300003300';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = new MigrationColumns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'hash_runs',
        columns: [
          c.id(),
          c.varchar('status', { length: '16' }),
          c.varchar('trigger', { length: '16' }),
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
      'hash_runs',
      new TableIndex({ name: 'idx_hash_runs_created', columnNames: ['created_at'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('hash_runs');
  }
}
