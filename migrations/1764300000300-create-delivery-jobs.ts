import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { MigrationColumns } from '@app/core';

const INDEXES: [string, string[]][] = [
  ['idx_delivery_jobs_status', ['status']],
  ['idx_delivery_jobs_mode', ['mode']],
  ['idx_delivery_jobs_favorite', ['favorite']],
  ['idx_delivery_jobs_created_at', ['created_at']],
];

export class CreateDeliveryJobs1764300000300 implements MigrationInterface {
  name = 'CreateDeliveryJobs1764300000300';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = new MigrationColumns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'delivery_jobs',
        columns: [
          c.id(),
          c.varchar('mode', { length: '32' }),
          c.text('prompt'),
          c.text('negative_prompt', { isNullable: true }),
          c.json('params'),
          c.varchar('status', { length: '16', default: "'queued'" }),
          c.json('result', { isNullable: true }),
          c.text('error', { isNullable: true }),
          c.int('attempts', { default: 0 }),
          c.int('rating', { isNullable: true }),
          c.bool('favorite', false),
          c.uuid('generation_job_id', { isNullable: true }),
          c.timestamp('created_at'),
          c.timestamp('started_at', { isNullable: true }),
          c.timestamp('finished_at', { isNullable: true }),
          c.timestamp('updated_at'),
        ],
      }),
    );
    for (const [name, columnNames] of INDEXES) {
      await queryRunner.createIndex('delivery_jobs', new TableIndex({ name, columnNames }));
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('delivery_jobs');
  }
}
