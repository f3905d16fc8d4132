import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drops four indexes whose columns lead a wider index of the same table (added later for analytics and the activity
 * feed), which answers every lookup and order they did: each job row written no longer updates them. A generation
 * job's row is written three times (queued, started, finished); on SQLite (better-sqlite3, 3,000 jobs, each write
 * its own commit) the insert took 136 → 117 µs, the start 120 → 93 µs and the finish 107 → 84 µs without them.
 */
const DROPPED: [table: string, name: string, column: string, covered: string][] = [
  ['generation_jobs', 'idx_generation_jobs_status', 'status', 'idx_generation_jobs_status_created'],
  ['generation_jobs', 'idx_generation_jobs_created_at', 'created_at', 'idx_generation_jobs_created_id'],
  ['delivery_jobs', 'idx_delivery_jobs_created_at', 'created_at', 'idx_delivery_jobs_created_id'],
  ['import_runs', 'idx_import_runs_created', 'created_at', 'idx_import_runs_created_id'],
];

export class DropPrefixIndexes1764300005300 implements MigrationInterface {
  name = 'DropPrefixIndexes1764300005300';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const [, name] of DROPPED) await queryRunner.query(`DROP INDEX "${name}"`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [table, name, column] of DROPPED) {
      await queryRunner.query(`CREATE INDEX "${name}" ON "${table}" ("${column}")`);
    }
  }
}
