import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MigrationColumns } from '@app/core';

/**
 * Co-usage beyond images: `adapter_co_use (source, source_id, adapter_id)` lists the library adapters of every
 * recipe (`recipes.loras[].adapterId`), every composed generation (`generation_jobs.adapters_used[].id`) and every
 * composed delivery (`delivery_jobs.adapters_used[].id`, a column added here). Triggers keep it from those JSON
 * columns on insert, update and delete, on both databases; the migration backfills it. Recommendations count two
 * adapters as used together once per recipe, composition or delivery that holds both (and per image, as before).
 */
const TABLE = 'adapter_co_use';

interface Source {
  source: string;
  table: string;
  column: string;
  key: string;
}

const SOURCES: Source[] = [
  { source: 'recipe', table: 'recipes', column: 'loras', key: 'adapterId' },
  { source: 'composition', table: 'generation_jobs', column: 'adapters_used', key: 'id' },
  { source: 'delivery', table: 'delivery_jobs', column: 'adapters_used', key: 'id' },
];

const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/**
 * The adapters of one row (`row` = `new`, `old`, or an alias of the table that `from` names) as (source, source_id,
 * adapter_id) rows; entries that are not objects with a uuid-like id are skipped rather than failing the write.
 */
function adaptersOf(pg: boolean, s: Source, row: string, from = ''): string {
  if (pg) {
    return `SELECT DISTINCT '${s.source}', ${row}.id, (e ->> '${s.key}')::uuid
      FROM ${from}jsonb_array_elements(CASE WHEN jsonb_typeof(${row}.${s.column}) = 'array' THEN ${row}.${s.column} ELSE '[]'::jsonb END) e
      WHERE jsonb_typeof(e) = 'object' AND (e ->> '${s.key}') ~ '${UUID}'`;
  }
  return `SELECT DISTINCT '${s.source}', ${row}.id, json_extract(e.value, '$.${s.key}')
    FROM ${from}json_each(CASE WHEN json_valid(${row}.${s.column}) AND json_type(${row}.${s.column}) = 'array' THEN ${row}.${s.column} ELSE '[]' END) e
    WHERE e.type = 'object' AND json_type(e.value, '$.${s.key}') = 'text'
      AND length(json_extract(e.value, '$.${s.key}')) = 36`;
}

const insertOf = (pg: boolean, s: Source, row: string, from = ''): string =>
  `INSERT ${pg ? '' : 'OR IGNORE '}INTO ${TABLE} (source, source_id, adapter_id) ${adaptersOf(pg, s, row, from)}
   ${pg ? 'ON CONFLICT DO NOTHING' : ''}`;

const deleteOf = (s: Source, row: string): string =>
  `DELETE FROM ${TABLE} WHERE source = '${s.source}' AND source_id = ${row}.id`;

const triggerName = (s: Source, event: string) => `acu_${s.source}_${event}`;

export class AdapterCoUse1764300005000 implements MigrationInterface {
  name = 'AdapterCoUse1764300005000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const pg = new MigrationColumns(queryRunner).pg;
    const id = pg ? 'uuid' : 'varchar(36)';
    await queryRunner.query(`ALTER TABLE delivery_jobs ADD COLUMN adapters_used ${pg ? 'jsonb' : 'text'}`);
    await queryRunner.query(
      `CREATE TABLE ${TABLE} (source varchar(16) NOT NULL, source_id ${id} NOT NULL, adapter_id ${id} NOT NULL,
        PRIMARY KEY (source, source_id, adapter_id))${pg ? '' : ' WITHOUT ROWID'}`,
    );
    await queryRunner.query(`CREATE INDEX idx_${TABLE}_adapter ON ${TABLE} (adapter_id, source, source_id)`);
    for (const s of SOURCES) {
      if (pg) {
        await queryRunner.query(
          `CREATE FUNCTION ${triggerName(s, 'sync')}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
             IF TG_OP <> 'INSERT' THEN ${deleteOf(s, 'OLD')}; END IF;
             IF TG_OP <> 'DELETE' THEN ${insertOf(true, s, 'NEW')}; END IF;
             RETURN NULL; END $$`,
        );
        await queryRunner.query(
          `CREATE TRIGGER ${triggerName(s, 'sync')}_tg AFTER INSERT OR DELETE OR UPDATE OF ${s.column} ON ${s.table}
           FOR EACH ROW EXECUTE FUNCTION ${triggerName(s, 'sync')}()`,
        );
      } else {
        await queryRunner.query(
          `CREATE TRIGGER ${triggerName(s, 'ai')} AFTER INSERT ON ${s.table} BEGIN ${insertOf(false, s, 'new')}; END`,
        );
        await queryRunner.query(
          `CREATE TRIGGER ${triggerName(s, 'au')} AFTER UPDATE OF ${s.column} ON ${s.table} BEGIN
             ${deleteOf(s, 'old')}; ${insertOf(false, s, 'new')}; END`,
        );
        await queryRunner.query(
          `CREATE TRIGGER ${triggerName(s, 'ad')} AFTER DELETE ON ${s.table} BEGIN ${deleteOf(s, 'old')}; END`,
        );
      }
      await queryRunner.query(insertOf(pg, s, 'x', `${s.table} x, `));
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const pg = new MigrationColumns(queryRunner).pg;
    for (const s of SOURCES) {
      if (pg) {
        await queryRunner.query(`DROP TRIGGER IF EXISTS ${triggerName(s, 'sync')}_tg ON ${s.table}`);
        await queryRunner.query(`DROP FUNCTION IF EXISTS ${triggerName(s, 'sync')}()`);
      } else {
        for (const event of ['ai', 'au', 'ad'])
          await queryRunner.query(`DROP TRIGGER IF EXISTS ${triggerName(s, event)}`);
      }
    }
    await queryRunner.query(`DROP TABLE ${TABLE}`);
    await queryRunner.query(`ALTER TABLE delivery_jobs DROP COLUMN adapters_used`);
  }
}
