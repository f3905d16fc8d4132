import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MigrationColumns } from '@app/core';

/**
 * Analytics roll-ups, so that a month of statistics reads a few thousand rows instead of every job, result and link:
 *
 * - `generation_stats_hourly (hour, backend_id)`: per UTC hour of `created_at` (`YYYY-MM-DD HH`) and backend (`''`
 *   for none): jobs, succeeded, failed, cancelled, timed (succeeded with a start and a finish), the sum of their
 *   durations in ms, and `durations`, a JSON object {duration rounded to two significant digits: how many}. The p95
 *   read from it is the nearest-rank p95 of the jobs, rounded to two significant digits (rounding keeps the order).
 * - `adapter_usage_daily (day, adapter_id)` and `adapter_pair_usage_daily (day, a_id, b_id)`, `a_id < b_id`: images
 *   per UTC day of the result's `created_at`, from `generation_result_adapters`.
 *
 * Triggers keep them exact on every write, whoever writes (the runner, retention, an archive import, a seed):
 * job rows inserted, deleted or with a changed status, backend, creation, start or finish; links inserted or deleted
 * (links are written after their result and deleted before it; their keys are never updated). Jobs change one row
 * at a time, so row-level triggers suffice on both databases. Links arrive in batches, some with `ON CONFLICT DO
 * NOTHING` (archive imports): PostgreSQL counts them in statement-level triggers over the rows really inserted or
 * deleted; SQLite's row triggers run as each row is written, which counts each pair once, when its second link
 * arrives or its first one goes. No entity maps these tables: only hand-written SQL reads them.
 */
const HOURLY = 'generation_stats_hourly';
const ADAPTERS = 'adapter_usage_daily';
const PAIRS = 'adapter_pair_usage_daily';
const PAIRS_BY_PAIR = 'idx_adapter_pair_usage_daily_pair';

const SQLITE_TRIGGERS = ['gsh_jobs_ai', 'gsh_jobs_ad', 'gsh_jobs_au', 'aud_links_ai', 'aud_links_ad'] as const;
const PG_TRIGGERS: [name: string, table: string][] = [
  ['gsh_jobs_ins', 'generation_jobs'],
  ['gsh_jobs_del', 'generation_jobs'],
  ['gsh_jobs_upd', 'generation_jobs'],
  ['aud_links_ins', 'generation_result_adapters'],
  ['aud_links_del', 'generation_result_adapters'],
];
const PG_FUNCTIONS = ['gsh_apply(timestamptz, varchar, varchar, timestamptz, timestamptz, integer)'];

const JOB_COLUMNS = ['status', 'backend_id', 'created_at', 'started_at', 'finished_at'];

/** SQL for both dialects: keys of hours and days, a run's duration in ms and its two-significant-digit bin. */
class RollupSql {
  constructor(readonly pg: boolean) {}

  hour(time: string): string {
    return this.pg ? `to_char(${time} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')` : `substr(${time}, 1, 13)`;
  }

  day(time: string): string {
    return this.pg ? `to_char(${time} AT TIME ZONE 'UTC', 'YYYY-MM-DD')` : `substr(${time}, 1, 10)`;
  }

  /** Whole milliseconds from start to finish of a succeeded run, else NULL. */
  ms(status: string, started: string, finished: string): string {
    const span = this.pg
      ? `EXTRACT(EPOCH FROM (${finished} - ${started})) * 1000`
      : `(julianday(${finished}) - julianday(${started})) * 86400000.0`;
    return `CASE WHEN ${status} = 'succeeded' AND ${started} IS NOT NULL AND ${finished} IS NOT NULL
      THEN (CASE WHEN ${span} < 0 THEN 0 ELSE ROUND(${span}) END) END`;
  }

  /** The bin (text) of a duration in whole ms: rounded to two significant digits. */
  bin(ms: string): string {
    const whole = ms;
    let ladder = `CASE WHEN ${whole} < 100 THEN ${whole}`;
    for (let e = 1; e <= 10; e++) ladder += ` WHEN ${whole} < 1e${e + 2} THEN ROUND(${whole} / 1e${e}) * 1e${e}`;
    ladder += ` ELSE ${whole} END`;
    return this.pg ? `((${ladder})::bigint)::text` : `CAST(CAST(${ladder} AS INTEGER) AS TEXT)`;
  }

  min(a: string, b: string): string {
    return this.pg ? `LEAST(${a}, ${b})` : `min(${a}, ${b})`;
  }

  max(a: string, b: string): string {
    return this.pg ? `GREATEST(${a}, ${b})` : `max(${a}, ${b})`;
  }

  /** Adds one SELECT's hourly deltas (hour, backend_id, jobs, …, durations) to their rows. */
  upsertHourly(select: string): string {
    const merged = this.pg
      ? `${HOURLY}.durations || COALESCE((SELECT jsonb_object_agg(e.key, COALESCE((${HOURLY}.durations ->> e.key)::bigint, 0) + e.value::bigint)
           FROM jsonb_each_text(excluded.durations) e), '{}'::jsonb)`
      : `CASE WHEN excluded.timed = 0 THEN durations ELSE (SELECT json_set(durations, '$."' || e.key || '"',
           COALESCE(json_extract(durations, '$."' || e.key || '"'), 0) + e.value) FROM json_each(excluded.durations) e) END`;
    const sum = (c: string) => `${c} = ${HOURLY}.${c} + excluded.${c}`;
    return `INSERT INTO ${HOURLY} (hour, backend_id, jobs, succeeded, failed, cancelled, timed, duration_ms_sum, durations)
      ${select}
      ON CONFLICT (hour, backend_id) DO UPDATE SET ${['jobs', 'succeeded', 'failed', 'cancelled', 'timed', 'duration_ms_sum'].map(sum).join(', ')},
        durations = ${merged}`;
  }

  /** One job's contribution (sign ±1) to its hour, from the row's values (`new.x`, `old.x` or function arguments). */
  jobDelta(row: (column: string) => string, sign: string): string {
    const status = row('status');
    const ms = this.ms(status, row('started_at'), row('finished_at'));
    const object = this.pg ? `jsonb_build_object(x.bin, ${sign})` : `json_object(x.bin, ${sign})`;
    const empty = this.pg ? `'{}'::jsonb` : `'{}'`;
    const flag = (s: string) => `(CASE WHEN x.status = '${s}' THEN ${sign} ELSE 0 END)`;
    return this
      .upsertHourly(`SELECT x.hour, x.backend, ${sign}, ${flag('succeeded')}, ${flag('failed')}, ${flag('cancelled')},
        CASE WHEN x.ms IS NULL THEN 0 ELSE ${sign} END, COALESCE(x.ms, 0) * ${sign},
        CASE WHEN x.ms IS NULL THEN ${empty} ELSE ${object} END
      FROM (SELECT ${this.hour(row('created_at'))} AS hour, COALESCE(${row('backend_id')}, '') AS backend, ${status} AS status,
              ${ms} AS ms, ${this.bin(ms)} AS bin) x WHERE true`);
  }

  /** Every job's contribution, for the backfill. */
  jobsBackfill(): string {
    const ms = this.ms('status', 'started_at', 'finished_at');
    const aggregate = this.pg ? 'jsonb_object_agg(bin, n)' : 'json_group_object(bin, n)';
    const empty = this.pg ? `'{}'::jsonb` : `'{}'`;
    const count = (s: string) => `SUM(CASE WHEN status = '${s}' THEN 1 ELSE 0 END)`;
    return `WITH j AS (SELECT ${this.hour('created_at')} AS hour, COALESCE(backend_id, '') AS backend, status, ${ms} AS ms
                       FROM generation_jobs),
      cells AS (SELECT hour, backend, COUNT(*) AS jobs, ${count('succeeded')} AS succeeded, ${count('failed')} AS failed,
                  ${count('cancelled')} AS cancelled, COUNT(ms) AS timed, COALESCE(SUM(ms), 0) AS ms_sum FROM j GROUP BY hour, backend),
      bins AS (SELECT hour, backend, ${aggregate} AS durations FROM (
                 SELECT hour, backend, ${this.bin('ms')} AS bin, COUNT(*) AS n FROM j WHERE ms IS NOT NULL GROUP BY 1, 2, 3) b
               GROUP BY hour, backend)
      INSERT INTO ${HOURLY} (hour, backend_id, jobs, succeeded, failed, cancelled, timed, duration_ms_sum, durations)
      SELECT c.hour, c.backend, c.jobs, c.succeeded, c.failed, c.cancelled, c.timed, c.ms_sum, COALESCE(b.durations, ${empty})
      FROM cells c LEFT JOIN bins b ON b.hour = c.hour AND b.backend = c.backend`;
  }

  /** Adds (adapter, images) or (a, b, images) deltas to their day's rows. */
  upsertAdapters(select: string): string {
    return `INSERT INTO ${ADAPTERS} (day, adapter_id, images) ${select}
      ON CONFLICT (day, adapter_id) DO UPDATE SET images = ${ADAPTERS}.images + excluded.images`;
  }

  upsertPairs(select: string): string {
    return `INSERT INTO ${PAIRS} (day, a_id, b_id, images) ${select}
      ON CONFLICT (day, a_id, b_id) DO UPDATE SET images = ${PAIRS}.images + excluded.images`;
  }
}

function sqliteTriggers(sql: RollupSql): string[] {
  const ref = (prefix: string) => (column: string) => `${prefix}.${column}`;
  const changed = JOB_COLUMNS.map((c) => `old.${c} IS NOT new.${c}`).join(' OR ');
  // A link's pairs: every other link of its result present now (inserted before it, or not yet deleted).
  const links = (row: 'new' | 'old', sign: number) => [
    sql.upsertAdapters(
      `SELECT ${sql.day('r.created_at')}, ${row}.adapter_id, ${sign} FROM generation_results r WHERE r.id = ${row}.result_id`,
    ),
    sql.upsertPairs(
      `SELECT ${sql.day('r.created_at')}, min(o.adapter_id, ${row}.adapter_id), max(o.adapter_id, ${row}.adapter_id), ${sign}
       FROM generation_results r JOIN generation_result_adapters o ON o.result_id = r.id AND o.adapter_id <> ${row}.adapter_id
       WHERE r.id = ${row}.result_id`,
    ),
  ];
  const body = (statements: string[]) => statements.map((s) => `${s};`).join('\n');
  return [
    `CREATE TRIGGER gsh_jobs_ai AFTER INSERT ON generation_jobs BEGIN ${body([sql.jobDelta(ref('new'), '1')])} END`,
    `CREATE TRIGGER gsh_jobs_ad AFTER DELETE ON generation_jobs BEGIN ${body([sql.jobDelta(ref('old'), '-1')])} END`,
    `CREATE TRIGGER gsh_jobs_au AFTER UPDATE OF ${JOB_COLUMNS.join(', ')} ON generation_jobs WHEN ${changed} BEGIN
       ${body([sql.jobDelta(ref('old'), '-1'), sql.jobDelta(ref('new'), '1')])} END`,
    `CREATE TRIGGER aud_links_ai AFTER INSERT ON generation_result_adapters BEGIN ${body(links('new', 1))} END`,
    `CREATE TRIGGER aud_links_ad AFTER DELETE ON generation_result_adapters BEGIN ${body(links('old', -1))} END`,
  ];
}

function pgTriggers(sql: RollupSql): string[] {
  const args = JOB_COLUMNS.map((c) => `OLD.${c}`);
  const call = (prefix: 'OLD' | 'NEW', sign: number) =>
    `PERFORM gsh_apply(${['created_at', 'backend_id', 'status', 'started_at', 'finished_at'].map((c) => `${prefix}.${c}`).join(', ')}, ${sign})`;
  const fn = (name: string, body: string) =>
    `CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${body}; RETURN NULL; END $$`;
  const arg = (column: string) =>
    ({ created_at: '$1', backend_id: '$2', status: '$3', started_at: '$4', finished_at: '$5' })[column] ?? column;
  // Pairs of a statement's links: with the result's other links, and among themselves once (a < b).
  const statementLinks = (rows: string, sign: number, others: string) => [
    sql.upsertAdapters(
      `SELECT ${sql.day('r.created_at')}, n.adapter_id, SUM(${sign}) FROM ${rows} n JOIN generation_results r ON r.id = n.result_id
       GROUP BY 1, 2`,
    ),
    sql.upsertPairs(
      `SELECT day, a, b, SUM(${sign}) FROM (
         SELECT ${sql.day('r.created_at')} AS day, LEAST(n.adapter_id, o.adapter_id) AS a, GREATEST(n.adapter_id, o.adapter_id) AS b
         FROM ${rows} n JOIN generation_results r ON r.id = n.result_id
         JOIN generation_result_adapters o ON o.result_id = n.result_id AND o.adapter_id <> n.adapter_id ${others}
         UNION ALL
         SELECT ${sql.day('r.created_at')}, n.adapter_id, m.adapter_id
         FROM ${rows} n JOIN ${rows} m ON m.result_id = n.result_id AND n.adapter_id < m.adapter_id
         JOIN generation_results r ON r.id = n.result_id) p GROUP BY day, a, b`,
    ),
  ];
  return [
    // plpgsql, not sql: it keeps the statement's plan from one row to the next.
    `CREATE FUNCTION gsh_apply(timestamptz, varchar, varchar, timestamptz, timestamptz, integer) RETURNS void
       LANGUAGE plpgsql AS $$ BEGIN ${sql.jobDelta(arg, '$6')}; END $$`,
    fn('gsh_jobs_ins', call('NEW', 1)),
    `CREATE TRIGGER gsh_jobs_ins_tg AFTER INSERT ON generation_jobs FOR EACH ROW EXECUTE FUNCTION gsh_jobs_ins()`,
    fn('gsh_jobs_del', call('OLD', -1)),
    `CREATE TRIGGER gsh_jobs_del_tg AFTER DELETE ON generation_jobs FOR EACH ROW EXECUTE FUNCTION gsh_jobs_del()`,
    fn('gsh_jobs_upd', `${call('OLD', -1)}; ${call('NEW', 1)}`),
    `CREATE TRIGGER gsh_jobs_upd_tg AFTER UPDATE OF ${JOB_COLUMNS.join(', ')} ON generation_jobs FOR EACH ROW
       WHEN ((${args.join(', ')}) IS DISTINCT FROM (${JOB_COLUMNS.map((c) => `NEW.${c}`).join(', ')}))
       EXECUTE FUNCTION gsh_jobs_upd()`,
    // After the statement the table holds the inserted links: pair each with the links that were there before.
    fn(
      'aud_links_ins',
      statementLinks(
        'new_rows',
        1,
        'AND NOT EXISTS (SELECT 1 FROM new_rows x WHERE x.result_id = o.result_id AND x.adapter_id = o.adapter_id)',
      ).join('; '),
    ),
    `CREATE TRIGGER aud_links_ins_tg AFTER INSERT ON generation_result_adapters REFERENCING NEW TABLE AS new_rows
       FOR EACH STATEMENT EXECUTE FUNCTION aud_links_ins()`,
    // After a delete the table holds the links that stay: pair each deleted one with them.
    fn('aud_links_del', statementLinks('old_rows', -1, '').join('; ')),
    `CREATE TRIGGER aud_links_del_tg AFTER DELETE ON generation_result_adapters REFERENCING OLD TABLE AS old_rows
       FOR EACH STATEMENT EXECUTE FUNCTION aud_links_del()`,
  ];
}

export class AnalyticsRollups1764300004800 implements MigrationInterface {
  name = 'AnalyticsRollups1764300004800';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = new MigrationColumns(queryRunner);
    const sql = new RollupSql(c.pg);
    const id = c.pg ? 'uuid' : 'varchar(36)';
    const json = c.pg ? 'jsonb' : 'text';
    const rowid = c.pg ? '' : ' WITHOUT ROWID';
    // No writer may slip between the backfill and the triggers.
    if (c.pg)
      await queryRunner.query(`LOCK TABLE generation_jobs, generation_result_adapters IN SHARE ROW EXCLUSIVE MODE`);
    await queryRunner.query(
      `CREATE TABLE ${HOURLY} (hour varchar(13) NOT NULL, backend_id varchar(64) NOT NULL, jobs integer NOT NULL,
        succeeded integer NOT NULL, failed integer NOT NULL, cancelled integer NOT NULL, timed integer NOT NULL,
        duration_ms_sum ${c.pg ? 'double precision' : 'real'} NOT NULL, durations ${json} NOT NULL,
        PRIMARY KEY (hour, backend_id))${rowid}`,
    );
    await queryRunner.query(
      `CREATE TABLE ${ADAPTERS} (day varchar(10) NOT NULL, adapter_id ${id} NOT NULL, images integer NOT NULL,
        PRIMARY KEY (day, adapter_id))${rowid}`,
    );
    await queryRunner.query(
      `CREATE TABLE ${PAIRS} (day varchar(10) NOT NULL, a_id ${id} NOT NULL, b_id ${id} NOT NULL, images integer NOT NULL,
        PRIMARY KEY (day, a_id, b_id))${rowid}`,
    );
    // Over most of the stored days, the top pairs read faster in pair order (no sort of every pair; SQLite).
    await queryRunner.query(`CREATE INDEX ${PAIRS_BY_PAIR} ON ${PAIRS} (a_id, b_id, day, images)`);
    for (const statement of c.pg ? pgTriggers(sql) : sqliteTriggers(sql)) await queryRunner.query(statement);
    await queryRunner.query(sql.jobsBackfill());
    const linkDay = sql.day('r.created_at');
    await queryRunner.query(
      `INSERT INTO ${ADAPTERS} (day, adapter_id, images)
       SELECT ${linkDay}, l.adapter_id, COUNT(*) FROM generation_result_adapters l JOIN generation_results r ON r.id = l.result_id
       GROUP BY 1, 2`,
    );
    await queryRunner.query(
      `INSERT INTO ${PAIRS} (day, a_id, b_id, images)
       SELECT ${linkDay}, x.adapter_id, y.adapter_id, COUNT(*) FROM generation_result_adapters x
       JOIN generation_result_adapters y ON y.result_id = x.result_id AND x.adapter_id < y.adapter_id
       JOIN generation_results r ON r.id = x.result_id GROUP BY 1, 2, 3`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (new MigrationColumns(queryRunner).pg) {
      for (const [name, table] of PG_TRIGGERS) {
        await queryRunner.query(`DROP TRIGGER IF EXISTS ${name}_tg ON ${table}`);
        await queryRunner.query(`DROP FUNCTION IF EXISTS ${name}()`);
      }
      for (const fn of PG_FUNCTIONS) await queryRunner.query(`DROP FUNCTION IF EXISTS ${fn}`);
    } else {
      for (const name of SQLITE_TRIGGERS) await queryRunner.query(`DROP TRIGGER IF EXISTS ${name}`);
    }
    for (const table of [PAIRS, ADAPTERS, HOURLY]) await queryRunner.query(`DROP TABLE ${table}`);
  }
}
