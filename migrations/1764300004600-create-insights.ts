import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { MigrationColumns } from '@app/core';

/** Indexes that keep analytics and the activity feed's pages to index ranges: [table, name, columns]. */
const INDEXES: [string, string, string[]][] = [
  ['generation_jobs', 'idx_generation_jobs_stats', ['created_at', 'backend_id', 'status', 'started_at', 'finished_at']],
  ['generation_jobs', 'idx_generation_jobs_status_created', ['status', 'created_at']],
  ['generation_jobs', 'idx_generation_jobs_created_id', ['created_at', 'id']],
  ['delivery_jobs', 'idx_delivery_jobs_stats', ['created_at', 'mode', 'status']],
  ['delivery_jobs', 'idx_delivery_jobs_created_id', ['created_at', 'id']],
  ['import_runs', 'idx_import_runs_created_id', ['created_at', 'id']],
];

/**
 * Insights: `adapter_edits` (a user's edits of adapter records, for the activity feed), `process_heartbeats` (every
 * API and worker process says it is alive, for the system status) and the analytics indexes.
 */
export class CreateInsights1764300004600 implements MigrationInterface {
  name = 'CreateInsights1764300004600';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = new MigrationColumns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'adapter_edits',
        columns: [
          c.id(),
          c.uuid('adapter_id'),
          c.varchar('adapter_name', { length: '512' }),
          c.varchar('action', { length: '16' }),
          c.json('fields'),
          c.timestamp('created_at'),
        ],
      }),
    );
    await queryRunner.createIndex(
      'adapter_edits',
      new TableIndex({ name: 'idx_adapter_edits_created', columnNames: ['created_at', 'id'] }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'process_heartbeats',
        columns: [
          c.varchar('id', { length: '200', isPrimary: true }),
          c.varchar('kind', { length: '16' }),
          c.varchar('host', { length: '255' }),
          c.int('pid'),
          c.varchar('version', { length: '64' }),
          c.timestamp('started_at'),
          c.timestamp('beat_at'),
        ],
      }),
    );
    await queryRunner.createIndex(
      'process_heartbeats',
      new TableIndex({ name: 'idx_process_heartbeats_beat', columnNames: ['beat_at'] }),
    );
    for (const [table, name, columnNames] of INDEXES) {
      await queryRunner.createIndex(table, new TableIndex({ name, columnNames }));
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [table, name] of INDEXES) await queryRunner.dropIndex(table, name);
    await queryRunner.dropTable('process_heartbeats');
    await queryRunner.dropTable('adapter_edits');
  }
}
