import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { MigrationColumns } from '@app/core';

/** Recipes: a LoRA set with weights, prompts and generation settings, made by hand, from a result or an image. */
export class CreateRecipes1764300004300 implements MigrationInterface {
  name = 'CreateRecipes1764300004300';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = new MigrationColumns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'recipes',
        columns: [
          c.id(),
          c.varchar('name', { length: '200' }),
          c.text('notes', { isNullable: true }),
          c.json('tags'),
          c.json('loras'),
          c.text('prompt'),
          c.text('negative_prompt', { isNullable: true }),
          c.json('parameters'),
          c.varchar('source', { length: '16' }),
          c.uuid('source_result_id', { isNullable: true }),
          c.varchar('image_key', { length: '512', isNullable: true }),
          c.varchar('image_content_type', { length: '64', isNullable: true }),
          c.timestamp('created_at'),
          c.timestamp('updated_at'),
        ],
      }),
    );
    await queryRunner.createIndex(
      'recipes',
      new TableIndex({ name: 'idx_recipes_created', columnNames: ['created_at', 'id'] }),
    );
    await queryRunner.createIndex('recipes', new TableIndex({ name: 'idx_recipes_name', columnNames: ['name'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('recipes');
  }
}
