import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { MigrationColumns } from '@app/core';

export class CreateGenerationJobs1764300000200 implements MigrationInterface {
  name = 'CreateGenerationJobs1764300000200';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = new MigrationColumns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'generation_jobs',
        columns: [
          c.id(),
          c.varchar('status', { length: '16', default: "'queued'" }),
          c.varchar('mode', { length: '8', default: "'queued'" }),
          c.varchar('backend_id', { length: '64', isNullable: true }),
          c.varchar('requested_backend_id', { length: '64', isNullable: true }),
          c.json('request'),
          c.text('composed_prompt', { isNullable: true }),
          c.json('adapters_used', { isNullable: true }),
          { name: 'progress', type: 'real', default: 0 },
          c.int('step', { default: 0 }),
          c.int('steps', { default: 0 }),
          { name: 'eta_seconds', type: 'real', isNullable: true },
          c.json('images', { isNullable: true }),
          c.json('info', { isNullable: true }),
          c.bigint('seed', { isNullable: true }),
          c.text('error', { isNullable: true }),
          c.int('attempts', { default: 0 }),
          c.timestamp('request_sent_at', { isNullable: true }),
          c.timestamp('cancel_requested_at', { isNullable: true }),
          c.timestamp('created_at'),
          c.timestamp('started_at', { isNullable: true }),
          c.timestamp('finished_at', { isNullable: true }),
          c.timestamp('updated_at'),
        ],
      }),
    );
    await queryRunner.createIndex(
      'generation_jobs',
      new TableIndex({ name: 'idx_generation_jobs_status', columnNames: ['status'] }),
    );
    await queryRunner.createIndex(
      'generation_jobs',
      new TableIndex({ name: 'idx_generation_jobs_backend', columnNames: ['backend_id'] }),
    );
    await queryRunner.createIndex(
      'generation_jobs',
      new TableIndex({ name: 'idx_generation_jobs_created_at', columnNames: ['created_at'] }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'backend_leases',
        columns: [
          c.varchar('backend_id', { length: '64', isPrimary: true }),
          c.uuid('job_id', { isNullable: true }),
          c.varchar('holder', { length: '200', isNullable: true }),
          c.timestamp('expires_at'),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('backend_leases');
    await queryRunner.dropTable('generation_jobs');
  }
}
