import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MigrationColumns } from '@app/core';

/**
 * PostgreSQL only: the sort keys of a search's column sorts (name, downloads, likes, rating, created, size) in the
 * narrow `adapter_search` table of migration 1764300000900, so that a search alone sorted by one of them takes its
 * total and its page from one pass over that table, as a relevance search does, instead of a count there and a
 * second pass over every match's wide `adapters` row to sort it. Measured on 100,000 adapters (node-postgres,
 * median of 9): "style" (13,769 matches) by name 26.3 → 13.3 ms, "detail" by downloads 18.2 → 8.5 ms.
 *
 * `updated_at` is left out: it changes on every write of an adapter, so keeping it here would make every such
 * write rewrite the search row too; a search sorted by it keeps reading `adapters`.
 *
 * The statement triggers are replaced (same names) to copy the keys, and the update trigger now also writes a row
 * whose keys changed (a Civitai refresh changes downloads, likes and rating; an edit, the name).
 */
const KEYS = ['sort_name', 'downloads', 'likes', 'rating', 'created_at', 'file_size'] as const;

const vectorOf = (row: string): string => `COALESCE(${row}.search_vector, to_tsvector('simple', ${row}.search_text))`;

const insertBody = (keys: readonly string[]): string =>
  `INSERT INTO "adapter_search" ("id", "present", "search_vector"${keys.map((k) => `, "${k}"`).join('')}) ` +
  `SELECT r.id, r.missing_since IS NULL, ${vectorOf('r')}${keys.map((k) => `, r.${k}`).join('')} FROM new_rows r`;

const updateBody = (keys: readonly string[]): string =>
  `UPDATE "adapter_search" s SET "present" = w.missing_since IS NULL, "search_vector" = ${vectorOf('w')}` +
  `${keys.map((k) => `, "${k}" = w.${k}`).join('')} ` +
  `FROM old_rows o JOIN new_rows w ON w.id = o.id ` +
  `WHERE s.id = w.id AND (o.search_text IS DISTINCT FROM w.search_text OR (o.missing_since IS NULL) <> (w.missing_since IS NULL)` +
  `${keys.map((k) => ` OR o.${k} IS DISTINCT FROM w.${k}`).join('')})`;

const replaceFunction = (fn: string, body: string): string =>
  `CREATE OR REPLACE FUNCTION "${fn}"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${body}; RETURN NULL; END $$`;

export class AdapterSearchSortKeys1764300005100 implements MigrationInterface {
  name = 'AdapterSearchSortKeys1764300005100';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (!new MigrationColumns(queryRunner).pg) return;
    // No writer may slip between the copy and the new triggers.
    await queryRunner.query(`LOCK TABLE "adapters" IN SHARE ROW EXCLUSIVE MODE`);
    // Written afresh rather than altered and updated in place: an UPDATE of every row would leave the table twice
    // its size (the old row versions) until a VACUUM FULL, and a search reads every match's page (52 MB against
    // 28 MB at 100,000 adapters: "style" by name 14.6 → 11.8 ms).
    await queryRunner.query(
      `CREATE TABLE "adapter_search_next" ("id" uuid NOT NULL, "present" boolean NOT NULL, "search_vector" tsvector NOT NULL, ` +
        `"sort_name" character varying(512), "downloads" integer, "likes" integer, "rating" double precision, ` +
        `"created_at" TIMESTAMP WITH TIME ZONE, "file_size" bigint)`,
    );
    await queryRunner.query(
      `INSERT INTO "adapter_search_next" SELECT s.id, s.present, s.search_vector${KEYS.map((k) => `, a.${k}`).join('')} ` +
        `FROM "adapter_search" s JOIN "adapters" a ON a.id = s.id`,
    );
    await queryRunner.query(`DROP TABLE "adapter_search"`);
    await queryRunner.query(`ALTER TABLE "adapter_search_next" RENAME TO "adapter_search"`);
    await queryRunner.query(`ALTER TABLE "adapter_search" ADD CONSTRAINT "adapter_search_pkey" PRIMARY KEY ("id")`);
    await queryRunner.query(`CREATE INDEX "idx_adapter_search_vector" ON "adapter_search" USING gin ("search_vector")`);
    await queryRunner.query(replaceFunction('adapter_search_ins', insertBody(KEYS)));
    await queryRunner.query(replaceFunction('adapter_search_upd', updateBody(KEYS)));
    await queryRunner.query(`ANALYZE "adapter_search"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (!new MigrationColumns(queryRunner).pg) return;
    await queryRunner.query(replaceFunction('adapter_search_ins', insertBody([])));
    await queryRunner.query(replaceFunction('adapter_search_upd', updateBody([])));
    await queryRunner.query(`ALTER TABLE "adapter_search" ${KEYS.map((k) => `DROP COLUMN "${k}"`).join(', ')}`);
  }
}
