import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { MigrationColumns } from '@app/core';

const INDEXES: [string, string[]][] = [
  ['idx_adapters_sha256', ['sha256']],
  ['idx_adapters_autov2', ['autov2']],
  ['idx_adapters_name', ['sort_name']],
  ['idx_adapters_base_model', ['base_model']],
  ['idx_adapters_model_type', ['model_type']],
  ['idx_adapters_folder', ['root_id', 'folder']],
  ['idx_adapters_civitai_model', ['civitai_model_id']],
  ['idx_adapters_nsfw', ['nsfw_max']],
  ['idx_adapters_active', ['active', 'ordinal']],
  ['idx_adapters_favorite', ['favorite']],
  ['idx_adapters_missing', ['missing_since']],
  ['idx_adapters_downloads', ['downloads']],
  ['idx_adapters_likes', ['likes']],
  ['idx_adapters_rating', ['rating']],
  ['idx_adapters_size', ['file_size']],
  ['idx_adapters_created', ['created_at']],
  ['idx_adapters_updated', ['updated_at']],
  ['idx_adapters_has_preview', ['has_preview']],
];

export class CreateAdapters1764300000100 implements MigrationInterface {
  name = 'CreateAdapters1764300000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = new MigrationColumns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'adapters',
        columns: [
          c.id(),
          c.varchar('root_id', { length: '32' }),
          c.varchar('relative_path', { length: '2048' }),
          c.varchar('folder', { length: '2048' }),
          c.varchar('file_name', { length: '512' }),
          c.bigint('file_size'),
          c.double('file_mtime_ms'),
          c.varchar('sha256', { length: '64', isNullable: true }),
          c.varchar('autov2', { length: '10', isNullable: true }),
          c.varchar('autov3', { length: '12', isNullable: true }),
          c.varchar('autov1', { length: '8', isNullable: true }),
          c.varchar('blake3', { length: '64', isNullable: true }),
          c.varchar('crc32', { length: '16', isNullable: true }),
          c.varchar('name', { length: '512' }),
          c.varchar('sort_name', { length: '512' }),
          c.varchar('version_name', { length: '512', isNullable: true }),
          c.text('description', { isNullable: true }),
          c.varchar('creator', { length: '255', isNullable: true }),
          c.int('civitai_model_id', { isNullable: true }),
          c.int('civitai_version_id', { isNullable: true }),
          c.varchar('civitai_lookup', { length: '16', default: "'unknown'" }),
          c.varchar('base_model', { length: '64' }),
          c.varchar('base_model_raw', { length: '128', isNullable: true }),
          c.varchar('model_type', { length: '32' }),
          c.json('tags'),
          c.json('trained_words'),
          c.json('trigger_words'),
          c.text('activation_text', { isNullable: true }),
          c.double('preferred_weight', { isNullable: true }),
          c.double('weight_min', { isNullable: true }),
          c.double('weight_max', { isNullable: true }),
          c.int('nsfw_level', { default: 0 }),
          c.int('nsfw_override', { isNullable: true }),
          c.int('nsfw_max', { default: 0 }),
          c.int('downloads', { default: 0 }),
          c.int('likes', { default: 0 }),
          c.double('rating', { isNullable: true }),
          c.int('rating_count', { isNullable: true }),
          c.json('license', { isNullable: true }),
          c.timestamp('published_at', { isNullable: true }),
          c.json('primary_file', { isNullable: true }),
          c.varchar('preview_path', { length: '2048', isNullable: true }),
          c.bool('has_preview', false),
          c.varchar('preview_url', { length: '2048', isNullable: true }),
          c.json('header_metadata'),
          c.json('sidecars'),
          c.json('unmapped'),
          c.json('images'),
          c.json('warnings'),
          c.text('search_text'),
          c.text('notes', { isNullable: true }),
          c.bool('favorite', false),
          c.bool('active', true),
          c.int('ordinal', { isNullable: true }),
          c.json('user_edited'),
          c.timestamp('missing_since', { isNullable: true }),
          c.timestamp('last_ingested_at'),
          c.timestamp('created_at'),
          c.timestamp('updated_at'),
        ],
      }),
    );
    await queryRunner.createIndex(
      'adapters',
      new TableIndex({ name: 'uq_adapters_root_path', columnNames: ['root_id', 'relative_path'], isUnique: true }),
    );
    for (const [name, columnNames] of INDEXES) {
      await queryRunner.createIndex('adapters', new TableIndex({ name, columnNames }));
    }

    await queryRunner.createTable(
      new Table({
        name: 'adapter_tags',
        columns: [c.uuid('adapter_id', { isPrimary: true }), c.varchar('tag', { length: '255', isPrimary: true })],
      }),
    );
    await queryRunner.createIndex(
      'adapter_tags',
      new TableIndex({ name: 'idx_adapter_tags_tag', columnNames: ['tag'] }),
    );

    await queryRunner.createTable(
      new Table({
        name: 'import_runs',
        columns: [
          c.id(),
          c.json('roots'),
          c.json('options'),
          c.varchar('status', { length: '16' }),
          c.json('counts'),
          c.json('failures'),
          c.int('failure_count', { default: 0 }),
          c.text('error', { isNullable: true }),
          c.timestamp('created_at'),
          c.timestamp('started_at', { isNullable: true }),
          c.timestamp('finished_at', { isNullable: true }),
        ],
      }),
    );
    await queryRunner.createIndex(
      'import_runs',
      new TableIndex({ name: 'idx_import_runs_created', columnNames: ['created_at'] }),
    );

    // Full-text search: an index, never LIKE scans. TypeORM does not manage these objects.
    if (c.pg) {
      await queryRunner.query(
        `CREATE INDEX "idx_adapters_fts" ON "adapters" USING gin (to_tsvector('simple', "search_text"))`,
      );
    } else {
      await queryRunner.query(
        `CREATE VIRTUAL TABLE "adapters_fts" USING fts5(search_text, content='adapters', content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')`,
      );
      await queryRunner.query(
        `CREATE TRIGGER "adapters_fts_ai" AFTER INSERT ON "adapters" BEGIN INSERT INTO "adapters_fts"(rowid, search_text) VALUES (new.rowid, new.search_text); END`,
      );
      await queryRunner.query(
        `CREATE TRIGGER "adapters_fts_ad" AFTER DELETE ON "adapters" BEGIN INSERT INTO "adapters_fts"("adapters_fts", rowid, search_text) VALUES ('delete', old.rowid, old.search_text); END`,
      );
      await queryRunner.query(
        `CREATE TRIGGER "adapters_fts_au" AFTER UPDATE OF search_text ON "adapters" BEGIN INSERT INTO "adapters_fts"("adapters_fts", rowid, search_text) VALUES ('delete', old.rowid, old.search_text); INSERT INTO "adapters_fts"(rowid, search_text) VALUES (new.rowid, new.search_text); END`,
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const c = new MigrationColumns(queryRunner);
    if (!c.pg) {
      await queryRunner.query(`DROP TRIGGER IF EXISTS "adapters_fts_au"`);
      await queryRunner.query(`DROP TRIGGER IF EXISTS "adapters_fts_ad"`);
      await queryRunner.query(`DROP TRIGGER IF EXISTS "adapters_fts_ai"`);
      await queryRunner.query(`DROP TABLE IF EXISTS "adapters_fts"`);
    }
    await queryRunner.dropTable('import_runs');
    await queryRunner.dropTable('adapter_tags');
    await queryRunner.dropTable('adapters');
  }
}
