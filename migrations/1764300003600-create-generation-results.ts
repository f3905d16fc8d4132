import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { MigrationColumns } from '@app/core';

const RESULT_INDEXES: [string, string[], boolean?][] = [
  ['uq_generation_results_job_image', ['job_id', 'image_index'], true],
  ['idx_generation_results_created', ['created_at', 'id']],
  ['idx_generation_results_backend', ['backend_id', 'created_at']],
  ['idx_generation_results_favorite', ['favorite', 'created_at']],
  ['idx_generation_results_rating', ['rating', 'id']],
];

const LINK_INDEXES: [string, string[]][] = [
  ['idx_generation_result_adapters_adapter', ['adapter_id', 'result_id']],
  ['idx_generation_result_adapters_base_model', ['base_model', 'result_id']],
];

/**
 * One row per generated image. Images generated before this migration stay reachable through
 * `GET /generation/jobs/:id/images/:index` but get no result row: their PNGs carry no infotext of ours and the
 * LoRA hashes of that time are unknown, so a backfill would record guesses.
 */
export class CreateGenerationResults1764300003600 implements MigrationInterface {
  name = 'CreateGenerationResults1764300003600';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = new MigrationColumns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'generation_results',
        columns: [
          c.id(),
          c.uuid('job_id'),
          c.int('image_index'),
          c.varchar('storage_key', { length: '512' }),
          c.varchar('format', { length: '8' }),
          c.varchar('content_type', { length: '64' }),
          c.int('width', { isNullable: true }),
          c.int('height', { isNullable: true }),
          c.bigint('bytes'),
          c.bigint('seed', { isNullable: true }),
          c.json('request'),
          c.text('prompt'),
          c.text('negative_prompt', { isNullable: true }),
          c.json('loras'),
          c.varchar('model', { length: '512', isNullable: true }),
          c.varchar('backend_id', { length: '64' }),
          c.timestamp('started_at', { isNullable: true }),
          c.timestamp('finished_at'),
          c.int('duration_ms', { isNullable: true }),
          c.int('rating', { default: 0 }),
          c.bool('favorite', false),
          c.json('tags'),
          c.text('notes', { isNullable: true }),
          c.timestamp('created_at'),
          c.timestamp('updated_at'),
        ],
      }),
    );
    for (const [name, columnNames, isUnique] of RESULT_INDEXES) {
      await queryRunner.createIndex('generation_results', new TableIndex({ name, columnNames, isUnique }));
    }
    await queryRunner.createTable(
      new Table({
        name: 'generation_result_adapters',
        columns: [
          c.uuid('result_id', { isPrimary: true }),
          c.uuid('adapter_id', { isPrimary: true }),
          c.varchar('base_model', { length: '64', isNullable: true }),
        ],
      }),
    );
    for (const [name, columnNames] of LINK_INDEXES) {
      await queryRunner.createIndex('generation_result_adapters', new TableIndex({ name, columnNames }));
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('generation_result_adapters');
    await queryRunner.dropTable('generation_results');
  }
}
