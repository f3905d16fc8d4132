import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';
import { MigrationColumns } from '@app/core';

/** `process_leases`: duties one process performs at a time (the folder watcher, the start-up import). */
export class CreateProcessLeases1764300003500 implements MigrationInterface {
  name = 'CreateProcessLeases1764300003500';

  async up(queryRunner: QueryRunner): Promise<void> {
    const c = new MigrationColumns(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'process_leases',
        columns: [
          c.varchar('name', { length: '64', isPrimary: true }),
          c.varchar('holder', { length: '200', isNullable: true }),
          c.timestamp('expires_at'),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('process_leases');
  }
}
