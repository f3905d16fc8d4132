import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MigrationColumns } from '@app/core';

/**
 * PostgreSQL only: a narrow copy of the search index for searches alone, `adapter_search(id, present,
 * search_vector)`, one row per adapter, with its own GIN index. Statement-level triggers keep it in step with
 * `adapters`, copying the vector the row trigger of migration 1764300000600 computed (a text is tokenised once).
 *
 * Why: a search visits every match's row to check visibility and rank it; a narrow row (~240 bytes, three
 * columns) costs a third of the pages of an `adapters` row (~800 bytes, vector last of 60 columns). `present`
 * (= `missing_since IS NULL`) lets a search alone leave out tombstones without reading `adapters`.
 *
 * `adapters.search_vector` stays: a search combined with other filters or facets needs the adapter's own columns
 * for every match and reads them in the same pass; joining this table instead costs a key probe per match.
 *
 * Adapter ids never change (a moved file keeps its id), so the triggers match rows by id. No entity maps this
 * table: only hand-written SQL reads it. SQLite's FTS5 tables need nothing like it.
 *
 * TRUNCATE fires no row or DELETE trigger, so it would have left this table, and the facet counts of migration
 * 1764300000700, describing rows that are gone. Two TRUNCATE triggers empty them with `adapters` / `adapter_tags`.
 */

/** A row's vector as the row trigger of migration 1764300000600 stored it (computed here should it be missing). */
const vectorOf = (row: string): string => `COALESCE(${row}.search_vector, to_tsvector('simple', ${row}.search_text))`;

/**
 * Each trigger: one plpgsql function and one statement-level trigger of that name + `_tg` (transition tables allow
 * one event each). The TRUNCATE ones empty what derives from the table: no adapter is left present, or no tag row.
 */
const TRIGGERS: { fn: string; table: string; event: string; referencing: string; body: string }[] = [
  {
    fn: 'adapter_search_ins',
    table: 'adapters',
    event: 'INSERT',
    referencing: 'REFERENCING NEW TABLE AS new_rows',
    body: `INSERT INTO "adapter_search" ("id", "present", "search_vector") SELECT r.id, r.missing_since IS NULL, ${vectorOf('r')} FROM new_rows r`,
  },
  {
    fn: 'adapter_search_del',
    table: 'adapters',
    event: 'DELETE',
    referencing: 'REFERENCING OLD TABLE AS old_rows',
    body: `DELETE FROM "adapter_search" s USING old_rows r WHERE s.id = r.id`,
  },
  {
    // The importer's upsert rewrites every column: only a changed text or presence is written again.
    fn: 'adapter_search_upd',
    table: 'adapters',
    event: 'UPDATE',
    referencing: 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows',
    body: `UPDATE "adapter_search" s SET "present" = w.missing_since IS NULL, "search_vector" = ${vectorOf('w')}
      FROM old_rows o JOIN new_rows w ON w.id = o.id
      WHERE s.id = w.id AND (o.search_text IS DISTINCT FROM w.search_text OR (o.missing_since IS NULL) <> (w.missing_since IS NULL))`,
  },
  {
    fn: 'adapters_truncate_derived',
    table: 'adapters',
    event: 'TRUNCATE',
    referencing: '',
    body: `TRUNCATE "adapter_search"; DELETE FROM "adapter_facet_counts"`,
  },
  {
    fn: 'adapter_tags_truncate_derived',
    table: 'adapter_tags',
    event: 'TRUNCATE',
    referencing: '',
    body: `DELETE FROM "adapter_facet_counts" WHERE "facet" = 'tag'`,
  },
];

export class AdapterSearchTable1764300000900 implements MigrationInterface {
  name = 'AdapterSearchTable1764300000900';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (!new MigrationColumns(queryRunner).pg) return;
    // No writer may slip between the backfill and the triggers.
    await queryRunner.query(`LOCK TABLE "adapters" IN SHARE ROW EXCLUSIVE MODE`);
    await queryRunner.query(
      `CREATE TABLE "adapter_search" ("id" uuid PRIMARY KEY, "present" boolean NOT NULL, "search_vector" tsvector NOT NULL)`,
    );
    await queryRunner.query(
      `INSERT INTO "adapter_search" ("id", "present", "search_vector") SELECT a."id", a."missing_since" IS NULL, ${vectorOf('a')} FROM "adapters" a`,
    );
    // Built after the backfill: one compact index instead of one grown row by row.
    await queryRunner.query(`CREATE INDEX "idx_adapter_search_vector" ON "adapter_search" USING gin ("search_vector")`);
    for (const { fn, table, event, referencing, body } of TRIGGERS) {
      await queryRunner.query(
        `CREATE FUNCTION "${fn}"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${body}; RETURN NULL; END $$`,
      );
      await queryRunner.query(
        `CREATE TRIGGER "${fn}_tg" AFTER ${event} ON "${table}" ${referencing} FOR EACH STATEMENT EXECUTE FUNCTION "${fn}"()`,
      );
    }
    await queryRunner.query(`ANALYZE "adapter_search"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (!new MigrationColumns(queryRunner).pg) return;
    for (const { fn, table } of TRIGGERS) {
      await queryRunner.query(`DROP TRIGGER IF EXISTS "${fn}_tg" ON "${table}"`);
      await queryRunner.query(`DROP FUNCTION IF EXISTS "${fn}"()`);
    }
    await queryRunner.query(`DROP TABLE "adapter_search"`);
  }
}
