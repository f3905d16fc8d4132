import type { MigrationInterface, QueryRunner } from 'typeorm';
import { MigrationColumns } from '@app/core';

/**
 * `adapter_pair_usage_total (a_id, b_id, images)`: each pair's images over all days, kept from
 * `adapter_pair_usage_daily` by triggers on that table (its rows are upserted: an insert adds the row's images, an
 * update the difference, a delete subtracts them). A pair's total bounds its count in any range, so the most-used
 * pairs of a range that covers most of the history are found by reading pairs in descending total until the next
 * total is below the tenth count found (the threshold algorithm), instead of grouping every pair of every day.
 */
const TOTALS = 'adapter_pair_usage_total';
const SQLITE_TRIGGERS = ['apt_daily_ai', 'apt_daily_au', 'apt_daily_ad'] as const;

const add = (a: string, b: string, images: string): string =>
  `INSERT INTO ${TOTALS} (a_id, b_id, images) VALUES (${a}, ${b}, ${images})
   ON CONFLICT (a_id, b_id) DO UPDATE SET images = ${TOTALS}.images + excluded.images`;

export class AdapterPairTotals1764300004900 implements MigrationInterface {
  name = 'AdapterPairTotals1764300004900';

  async up(queryRunner: QueryRunner): Promise<void> {
    const pg = new MigrationColumns(queryRunner).pg;
    if (pg) await queryRunner.query(`LOCK TABLE adapter_pair_usage_daily IN SHARE ROW EXCLUSIVE MODE`);
    await queryRunner.query(
      `CREATE TABLE ${TOTALS} (a_id ${pg ? 'uuid' : 'varchar(36)'} NOT NULL, b_id ${pg ? 'uuid' : 'varchar(36)'} NOT NULL,
        images integer NOT NULL, PRIMARY KEY (a_id, b_id))${pg ? '' : ' WITHOUT ROWID'}`,
    );
    await queryRunner.query(`CREATE INDEX idx_${TOTALS}_images ON ${TOTALS} (images DESC, a_id, b_id)`);
    if (pg) {
      await queryRunner.query(
        `CREATE FUNCTION apt_daily() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
           IF TG_OP = 'INSERT' THEN ${add('NEW.a_id', 'NEW.b_id', 'NEW.images')};
           ELSIF TG_OP = 'UPDATE' THEN ${add('NEW.a_id', 'NEW.b_id', 'NEW.images - OLD.images')};
           ELSE ${add('OLD.a_id', 'OLD.b_id', '-OLD.images')};
           END IF; RETURN NULL; END $$`,
      );
      await queryRunner.query(
        `CREATE TRIGGER apt_daily_tg AFTER INSERT OR UPDATE OF images OR DELETE ON adapter_pair_usage_daily
         FOR EACH ROW EXECUTE FUNCTION apt_daily()`,
      );
    } else {
      await queryRunner.query(
        `CREATE TRIGGER apt_daily_ai AFTER INSERT ON adapter_pair_usage_daily BEGIN ${add('new.a_id', 'new.b_id', 'new.images')}; END`,
      );
      await queryRunner.query(
        `CREATE TRIGGER apt_daily_au AFTER UPDATE OF images ON adapter_pair_usage_daily BEGIN ${add('new.a_id', 'new.b_id', 'new.images - old.images')}; END`,
      );
      await queryRunner.query(
        `CREATE TRIGGER apt_daily_ad AFTER DELETE ON adapter_pair_usage_daily BEGIN ${add('old.a_id', 'old.b_id', '-old.images')}; END`,
      );
    }
    await queryRunner.query(
      `INSERT INTO ${TOTALS} (a_id, b_id, images) SELECT a_id, b_id, SUM(images) FROM adapter_pair_usage_daily GROUP BY a_id, b_id`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (new MigrationColumns(queryRunner).pg) {
      await queryRunner.query(`DROP TRIGGER IF EXISTS apt_daily_tg ON adapter_pair_usage_daily`);
      await queryRunner.query(`DROP FUNCTION IF EXISTS apt_daily()`);
    } else {
      for (const name of SQLITE_TRIGGERS) await queryRunner.query(`DROP TRIGGER IF EXISTS ${name}`);
    }
    await queryRunner.query(`DROP TABLE ${TOTALS}`);
  }
}
