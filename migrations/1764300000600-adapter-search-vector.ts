import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MigrationColumns } from '@app/core';

/**
 * PostgreSQL only: a stored `search_vector` (`to_tsvector('simple', search_text)`), kept in step by a trigger,
 * with its own GIN index. Search and relevance read it instead of re-tokenising `search_text` for every
 * matching row (`ts_rank` over a computed vector cost ~20–50 µs per row). The entity declares the column on
 * PostgreSQL only, not insertable, not updatable, not selected. `idx_adapters_fts` is no longer used and is
 * dropped. SQLite keeps its FTS5 table.
 */
export class AdapterSearchVector1764300000600 implements MigrationInterface {
  name = 'AdapterSearchVector1764300000600';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (!new MigrationColumns(queryRunner).pg) return;
    await queryRunner.query(`ALTER TABLE "adapters" ADD COLUMN "search_vector" tsvector`);
    await queryRunner.query(
      `CREATE FUNCTION "adapters_search_vector_fn"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.search_vector := to_tsvector('simple', NEW.search_text); RETURN NEW; END $$`,
    );
    await queryRunner.query(
      `CREATE TRIGGER "adapters_search_vector_tg" BEFORE INSERT OR UPDATE OF "search_text" ON "adapters" FOR EACH ROW EXECUTE FUNCTION "adapters_search_vector_fn"()`,
    );
    await queryRunner.query(`UPDATE "adapters" SET "search_vector" = to_tsvector('simple', "search_text")`);
    await queryRunner.query(`CREATE INDEX "idx_adapters_search_vector" ON "adapters" USING gin ("search_vector")`);
    await queryRunner.query(`DROP INDEX IF EXISTS "idx_adapters_fts"`);
    await queryRunner.query(`ANALYZE "adapters"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (!new MigrationColumns(queryRunner).pg) return;
    await queryRunner.query(
      `CREATE INDEX IF NOT EXISTS "idx_adapters_fts" ON "adapters" USING gin (to_tsvector('simple', "search_text"))`,
    );
    await queryRunner.query(`DROP INDEX IF EXISTS "idx_adapters_search_vector"`);
    await queryRunner.query(`DROP TRIGGER IF EXISTS "adapters_search_vector_tg" ON "adapters"`);
    await queryRunner.query(`DROP FUNCTION IF EXISTS "adapters_search_vector_fn"()`);
    await queryRunner.query(`ALTER TABLE "adapters" DROP COLUMN "search_vector"`);
  }
}
