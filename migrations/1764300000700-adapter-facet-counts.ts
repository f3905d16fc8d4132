import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MigrationColumns } from '@app/core';

/**
 * Whole-library facets without a scan: `adapter_facet_counts(facet, value, n)` holds, per base model
 * (`facet = 'base_model'`) and per tag (`facet = 'tag'`), how many present (not tombstoned) adapters carry it.
 * Triggers keep it exact on every write: adapter inserted/deleted, base model changed, tombstoned or restored
 * (`missing_since` NULL ↔ not NULL), tag rows inserted/deleted/updated. A value's count is `SUM(n)` over its
 * rows; zero sums are left in place and read as absent.
 *
 * - SQLite (one writer at a time): one row per (facet, value), upserted by row-level triggers. The importer
 *   deletes and re-inserts an adapter's tag rows, so each trigger is one primary-key probe of `adapters` and
 *   one upsert.
 * - PostgreSQL (concurrent writers): statement-level triggers append one aggregated delta row per value and
 *   statement; nothing is updated in place, so concurrent imports and edits never wait on (or deadlock over) a
 *   popular tag's counter. The repository folds the deltas back into one row per value from time to time
 *   (`compactFacetCounts`), which is exact under concurrent appends (it deletes only the rows it saw).
 *
 * No entity maps this table: only hand-written SQL reads it.
 */
export const SQLITE_FACET_TRIGGERS = [
  'afc_adapters_ai',
  'afc_adapters_ad',
  'afc_adapters_au',
  'afc_tags_ai',
  'afc_tags_ad',
  'afc_tags_au',
] as const;

const PG_FUNCTIONS = [
  'afc_adapters_ins',
  'afc_adapters_del',
  'afc_adapters_upd',
  'afc_tags_ins',
  'afc_tags_del',
  'afc_tags_upd',
];

/** SQLite upsert of one delta row per SELECTed (value, delta). */
const bump = (select: string): string =>
  `INSERT INTO "adapter_facet_counts" ("facet", "value", "n") ${select} ON CONFLICT ("facet", "value") DO UPDATE SET "n" = "n" + excluded."n";`;

const SQLITE_TRIGGERS = [
  `CREATE TRIGGER "afc_adapters_ai" AFTER INSERT ON "adapters" WHEN new."missing_since" IS NULL BEGIN
    ${bump(`SELECT 'base_model', new."base_model", 1 WHERE true`)}
    ${bump(`SELECT 'tag', t."tag", 1 FROM "adapter_tags" t WHERE t."adapter_id" = new."id"`)}
  END`,
  `CREATE TRIGGER "afc_adapters_ad" AFTER DELETE ON "adapters" WHEN old."missing_since" IS NULL BEGIN
    ${bump(`SELECT 'base_model', old."base_model", -1 WHERE true`)}
    ${bump(`SELECT 'tag', t."tag", -1 FROM "adapter_tags" t WHERE t."adapter_id" = old."id"`)}
  END`,
  // The importer's upsert sets every column: the WHEN keeps the trigger to real changes of presence or base model.
  `CREATE TRIGGER "afc_adapters_au" AFTER UPDATE OF "base_model", "missing_since" ON "adapters"
    WHEN (old."missing_since" IS NULL) <> (new."missing_since" IS NULL)
      OR (new."missing_since" IS NULL AND old."base_model" IS NOT new."base_model") BEGIN
    ${bump(`SELECT 'base_model', old."base_model", -1 WHERE old."missing_since" IS NULL`)}
    ${bump(`SELECT 'base_model', new."base_model", 1 WHERE new."missing_since" IS NULL`)}
    ${bump(`SELECT 'tag', t."tag", CASE WHEN new."missing_since" IS NULL THEN 1 ELSE -1 END FROM "adapter_tags" t WHERE t."adapter_id" = new."id" AND (old."missing_since" IS NULL) <> (new."missing_since" IS NULL)`)}
  END`,
  `CREATE TRIGGER "afc_tags_ai" AFTER INSERT ON "adapter_tags" BEGIN
    ${bump(`SELECT 'tag', new."tag", 1 FROM "adapters" a WHERE a."id" = new."adapter_id" AND a."missing_since" IS NULL`)}
  END`,
  `CREATE TRIGGER "afc_tags_ad" AFTER DELETE ON "adapter_tags" BEGIN
    ${bump(`SELECT 'tag', old."tag", -1 FROM "adapters" a WHERE a."id" = old."adapter_id" AND a."missing_since" IS NULL`)}
  END`,
  `CREATE TRIGGER "afc_tags_au" AFTER UPDATE ON "adapter_tags" BEGIN
    ${bump(`SELECT 'tag', old."tag", -1 FROM "adapters" a WHERE a."id" = old."adapter_id" AND a."missing_since" IS NULL`)}
    ${bump(`SELECT 'tag', new."tag", 1 FROM "adapters" a WHERE a."id" = new."adapter_id" AND a."missing_since" IS NULL`)}
  END`,
];

/** PostgreSQL: one plpgsql function and one statement-level trigger per event (transition tables allow one event each). */
const pgTrigger = (fn: string, table: string, event: string, referencing: string, body: string): string[] => [
  `CREATE FUNCTION "${fn}"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${body}; RETURN NULL; END $$`,
  `CREATE TRIGGER "${fn}_tg" AFTER ${event} ON "${table}" REFERENCING ${referencing} FOR EACH STATEMENT EXECUTE FUNCTION "${fn}"()`,
];

/** Appends one delta row per (facet, value) of a delta SELECT yielding (facet, value, n); zero sums are skipped. */
const append = (deltas: string, withClause = ''): string =>
  `${withClause}INSERT INTO "adapter_facet_counts" ("facet", "value", "n") SELECT d.facet, d.value, SUM(d.n) FROM (${deltas}) d GROUP BY d.facet, d.value HAVING SUM(d.n) <> 0`;

const PG_TRIGGERS = [
  ...pgTrigger(
    'afc_adapters_ins',
    'adapters',
    'INSERT',
    'NEW TABLE AS new_rows',
    append(
      `SELECT 'base_model'::varchar AS facet, r.base_model::varchar AS value, 1 AS n FROM new_rows r WHERE r.missing_since IS NULL
       UNION ALL SELECT 'tag', t.tag, 1 FROM new_rows r JOIN adapter_tags t ON t.adapter_id = r.id WHERE r.missing_since IS NULL`,
    ),
  ),
  ...pgTrigger(
    'afc_adapters_del',
    'adapters',
    'DELETE',
    'OLD TABLE AS old_rows',
    append(
      `SELECT 'base_model'::varchar AS facet, r.base_model::varchar AS value, -1 AS n FROM old_rows r WHERE r.missing_since IS NULL
       UNION ALL SELECT 'tag', t.tag, -1 FROM old_rows r JOIN adapter_tags t ON t.adapter_id = r.id WHERE r.missing_since IS NULL`,
    ),
  ),
  ...pgTrigger(
    'afc_adapters_upd',
    'adapters',
    'UPDATE',
    'OLD TABLE AS old_rows NEW TABLE AS new_rows',
    append(
      `SELECT 'base_model'::varchar AS facet, c.old_base::varchar AS value, -1 AS n FROM changed c WHERE c.old_present
       UNION ALL SELECT 'base_model', c.new_base, 1 FROM changed c WHERE c.new_present
       UNION ALL SELECT 'tag', t.tag, CASE WHEN c.new_present THEN 1 ELSE -1 END FROM changed c JOIN adapter_tags t ON t.adapter_id = c.id WHERE c.old_present <> c.new_present`,
      `WITH changed AS (SELECT w.id, o.base_model AS old_base, w.base_model AS new_base, o.missing_since IS NULL AS old_present, w.missing_since IS NULL AS new_present
         FROM old_rows o JOIN new_rows w ON w.id = o.id
         WHERE (o.missing_since IS NULL) <> (w.missing_since IS NULL) OR (w.missing_since IS NULL AND o.base_model IS DISTINCT FROM w.base_model)) `,
    ),
  ),
  ...pgTrigger(
    'afc_tags_ins',
    'adapter_tags',
    'INSERT',
    'NEW TABLE AS new_rows',
    append(
      `SELECT 'tag'::varchar AS facet, r.tag::varchar AS value, 1 AS n FROM new_rows r JOIN adapters a ON a.id = r.adapter_id WHERE a.missing_since IS NULL`,
    ),
  ),
  ...pgTrigger(
    'afc_tags_del',
    'adapter_tags',
    'DELETE',
    'OLD TABLE AS old_rows',
    append(
      `SELECT 'tag'::varchar AS facet, r.tag::varchar AS value, -1 AS n FROM old_rows r JOIN adapters a ON a.id = r.adapter_id WHERE a.missing_since IS NULL`,
    ),
  ),
  ...pgTrigger(
    'afc_tags_upd',
    'adapter_tags',
    'UPDATE',
    'OLD TABLE AS old_rows NEW TABLE AS new_rows',
    append(
      `SELECT 'tag'::varchar AS facet, r.tag::varchar AS value, -1 AS n FROM old_rows r JOIN adapters a ON a.id = r.adapter_id WHERE a.missing_since IS NULL
       UNION ALL SELECT 'tag', r.tag, 1 FROM new_rows r JOIN adapters a ON a.id = r.adapter_id WHERE a.missing_since IS NULL`,
    ),
  ),
];

const BACKFILL = [
  `INSERT INTO "adapter_facet_counts" ("facet", "value", "n") SELECT 'base_model', a."base_model", COUNT(*) FROM "adapters" a WHERE a."missing_since" IS NULL GROUP BY a."base_model"`,
  `INSERT INTO "adapter_facet_counts" ("facet", "value", "n") SELECT 'tag', t."tag", COUNT(*) FROM "adapter_tags" t JOIN "adapters" a ON a."id" = t."adapter_id" WHERE a."missing_since" IS NULL GROUP BY t."tag"`,
];

export class AdapterFacetCounts1764300000700 implements MigrationInterface {
  name = 'AdapterFacetCounts1764300000700';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (new MigrationColumns(queryRunner).pg) {
      // No writer may slip between the backfill and the triggers.
      await queryRunner.query(`LOCK TABLE "adapters", "adapter_tags" IN SHARE ROW EXCLUSIVE MODE`);
      await queryRunner.query(
        `CREATE TABLE "adapter_facet_counts" ("facet" varchar(16) NOT NULL, "value" varchar(255) NOT NULL, "n" bigint NOT NULL)`,
      );
      await queryRunner.query(`CREATE INDEX "idx_adapter_facet_counts" ON "adapter_facet_counts" ("facet", "value")`);
      for (const sql of PG_TRIGGERS) await queryRunner.query(sql);
    } else {
      await queryRunner.query(
        `CREATE TABLE "adapter_facet_counts" ("facet" varchar(16) NOT NULL, "value" varchar(255) NOT NULL, "n" integer NOT NULL, PRIMARY KEY ("facet", "value")) WITHOUT ROWID`,
      );
      for (const sql of SQLITE_TRIGGERS) await queryRunner.query(sql);
    }
    for (const sql of BACKFILL) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (new MigrationColumns(queryRunner).pg) {
      for (const fn of PG_FUNCTIONS) {
        await queryRunner.query(
          `DROP TRIGGER IF EXISTS "${fn}_tg" ON "${fn.startsWith('afc_tags') ? 'adapter_tags' : 'adapters'}"`,
        );
        await queryRunner.query(`DROP FUNCTION IF EXISTS "${fn}"()`);
      }
    } else {
      for (const name of SQLITE_FACET_TRIGGERS) await queryRunner.query(`DROP TRIGGER IF EXISTS "${name}"`);
    }
    await queryRunner.query(`DROP TABLE "adapter_facet_counts"`);
  }
}
