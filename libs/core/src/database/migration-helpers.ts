import { TableColumn, type QueryRunner, type TableColumnOptions } from 'typeorm';

/**
 * Column builders for hand-written migrations that run on SQLite and PostgreSQL. They mirror
 * `columns.ts`; the drift test proves that the two agree.
 */
export class MigrationColumns {
  constructor(private readonly queryRunner: QueryRunner) {}

  get pg(): boolean {
    return this.queryRunner.connection.driver.options.type === 'postgres';
  }

  uuid(name: string, opts: Partial<TableColumnOptions> = {}): TableColumnOptions {
    return { name, type: this.pg ? 'uuid' : 'varchar', length: this.pg ? undefined : '36', ...opts };
  }
  id(): TableColumnOptions {
    return this.uuid('id', { isPrimary: true });
  }
  varchar(name: string, opts: Partial<TableColumnOptions> = {}): TableColumnOptions {
    return { name, type: 'varchar', ...opts };
  }
  text(name: string, opts: Partial<TableColumnOptions> = {}): TableColumnOptions {
    return { name, type: 'text', ...opts };
  }
  int(name: string, opts: Partial<TableColumnOptions> = {}): TableColumnOptions {
    return { name, type: 'integer', ...opts };
  }
  bigint(name: string, opts: Partial<TableColumnOptions> = {}): TableColumnOptions {
    return { name, type: this.pg ? 'bigint' : 'integer', ...opts };
  }
  double(name: string, opts: Partial<TableColumnOptions> = {}): TableColumnOptions {
    return { name, type: this.pg ? 'double precision' : 'real', ...opts };
  }
  bool(name: string, defaultValue: boolean, opts: Partial<TableColumnOptions> = {}): TableColumnOptions {
    return { name, type: 'boolean', default: this.pg ? String(defaultValue) : defaultValue ? 1 : 0, ...opts };
  }
  json(name: string, opts: Partial<TableColumnOptions> = {}): TableColumnOptions {
    return { name, type: this.pg ? 'jsonb' : 'text', ...opts };
  }
  timestamp(name: string, opts: Partial<TableColumnOptions> = {}): TableColumnOptions {
    return { name, type: this.pg ? 'timestamptz' : 'datetime', ...opts };
  }

  column(options: TableColumnOptions): TableColumn {
    return new TableColumn(options);
  }
}
