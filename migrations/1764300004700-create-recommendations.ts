import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { MigrationColumns } from '@app/core';

/**
 * Recommendation feedback (one row per "useful" / "not useful") and the version stamp of the recommendation
 * index. The index itself lives in each process's memory, built from `adapters`; co-usage is read from
 * `generation_result_adapters`, whose `(adapter_id, result_id)` index and primary key serve the self-join.
 */
export class CreateRecommendations1764300004700 implements MigrationInterface {
  name = 'CreateRecommendations1764300004700';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = new MigrationColumns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'recommendation_feedback',
        columns: [
          c.id(),
          c.varchar('kind', { length: '16' }),
          c.uuid('source_adapter_id', { isNullable: true }),
          c.uuid('adapter_id'),
          { name: 'useful', type: 'boolean' },
          c.text('prompt', { isNullable: true }),
          c.timestamp('created_at'),
        ],
      }),
    );
    await queryRunner.createIndex(
      'recommendation_feedback',
      new TableIndex({ name: 'idx_recommendation_feedback_adapter', columnNames: ['adapter_id', 'kind'] }),
    );
    await queryRunner.createIndex(
      'recommendation_feedback',
      new TableIndex({ name: 'idx_recommendation_feedback_pair', columnNames: ['source_adapter_id', 'adapter_id'] }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'recommendation_index_state',
        columns: [
          c.varchar('id', { length: '32', isPrimary: true }),
          c.int('version', { default: 0 }),
          c.varchar('status', { length: '16', isNullable: true }),
          c.varchar('job_id', { length: '64', isNullable: true }),
          c.int('documents', { default: 0 }),
          c.int('terms', { default: 0 }),
          c.int('build_ms', { isNullable: true }),
          c.text('error', { isNullable: true }),
          c.timestamp('started_at', { isNullable: true }),
          c.timestamp('built_at', { isNullable: true }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('recommendation_index_state');
    await queryRunner.dropTable('recommendation_feedback');
  }
}
