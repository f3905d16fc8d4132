import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { MigrationColumns } from '@app/core';

export class CreateQueuedJobs1764300000000 implements MigrationInterface {
  name = 'CreateQueuedJobs1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = new MigrationColumns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'queued_jobs',
        columns: [
          c.id(),
          c.varchar('name', { length: '64' }),
          c.json('payload'),
          c.varchar('status', { length: '16', default: "'queued'" }),
          c.int('attempts', { default: 0 }),
          c.int('max_attempts'),
          c.timestamp('run_after'),
          { name: 'progress', type: 'real', default: 0 },
          c.json('result', { isNullable: true }),
          c.text('error', { isNullable: true }),
          c.timestamp('created_at'),
          c.timestamp('started_at', { isNullable: true }),
          c.timestamp('finished_at', { isNullable: true }),
        ],
      }),
    );
    await queryRunner.createIndex(
      'queued_jobs',
      new TableIndex({ name: 'idx_queued_jobs_claim', columnNames: ['status', 'run_after'] }),
    );
    await queryRunner.createIndex(
      'queued_jobs',
      new TableIndex({ name: 'idx_queued_jobs_name', columnNames: ['name'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('queued_jobs');
  }
}
