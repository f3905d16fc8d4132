import type { DataSource, EntityMetadata, EntityTarget, ObjectLiteral, QueryRunner } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata.js';
import { runPrepared } from './pg-prepared.js';
import { sqliteParameter } from './sqlite-bound-numbers.js';

/** What one statement returned: its rows (a SELECT, or `RETURNING`) and how many rows it changed. */
export interface RowSqlResult {
  rows: ObjectLiteral[];
  affected: number;
}

/**
 * Hand-written SQL over one entity's table, for the statements every job runs several times (claim, status checks,
 * transitions). TypeORM's find and update builders spend about half a millisecond of CPU per call building the SQL
 * and then the entity; a job ran a dozen of them. Here the SQL is written once, and values and rows still go through
 * the driver's own conversions, so they are stored and read exactly as TypeORM stores and reads them.
 *
 * The text uses `{table}` and `{propertyName}` for the escaped table and column names, `{columns}` for all the columns,
 * and `?` for parameters (turned into `$1, $2, …` on PostgreSQL); the texts are expanded once and kept.
 */
export class RowSql<E extends ObjectLiteral> {
  /** PostgreSQL (true) or SQLite, for the few statements whose text differs. */
  readonly postgres: boolean;
  private readonly columns = new Map<string, ColumnMetadata>();
  private readonly table: string;
  /** `{columns}`: every column of the entity, escaped (in place of `*`, see `run`). */
  private readonly columnList: string;
  private readonly texts = new Map<string, string>();
  private readonly metadata: EntityMetadata;
  /** `INSERT` of every column, plain and `ON CONFLICT DO NOTHING`. */
  private readonly insertTexts: Record<'plain' | 'ifAbsent', string>;

  constructor(
    private readonly dataSource: DataSource,
    entity: EntityTarget<E>,
  ) {
    const metadata = (this.metadata = dataSource.getMetadata(entity));
    for (const column of metadata.columns) {
      // Not needed by the tables this serves; refused rather than read differently from TypeORM. (A column's
      // transformer is applied by the driver's own conversions, as for TypeORM's statements.)
      if (column.embeddedMetadata) throw new Error(`RowSql: ${metadata.tableName}.${column.propertyName} is embedded`);
      this.columns.set(column.propertyName, column);
    }
    this.table = dataSource.driver.escape(metadata.tablePath);
    this.columnList = [...this.columns.values()].map((c) => dataSource.driver.escape(c.databaseName)).join(', ');
    this.postgres = dataSource.options.type === 'postgres';
    const names = [...this.columns.keys()].map((property) => `{${property}}`);
    const insert = `INSERT INTO {table} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`;
    this.insertTexts = { plain: insert, ifAbsent: `${insert} ON CONFLICT DO NOTHING` };
  }

  /** The statement's text for this database. */
  sql(text: string): string {
    let expanded = this.texts.get(text);
    if (expanded === undefined) {
      let n = 0;
      expanded = text.replace(/\{(\w+)\}|\?/g, (match, property: string | undefined) => {
        if (property === undefined) return this.postgres ? `$${++n}` : '?';
        if (property === 'table') return this.table;
        if (property === 'columns') return this.columnList;
        return this.dataSource.driver.escape(this.column(property).databaseName);
      });
      this.texts.set(text, expanded);
    }
    return expanded;
  }

  /** `value` as the driver stores it in `property`'s column (a date as UTC text on SQLite, JSON as text, …). */
  value<K extends keyof E & string>(property: K, value: E[K] | null): unknown {
    return this.dataSource.driver.preparePersistentValue(value, this.column(property));
  }

  /**
   * Runs one statement, as a repository's own call does: on SQLite's one connection, on a connection of the pool on
   * PostgreSQL; or on `within`, a transaction's runner (`manager.queryRunner`). `affected` counts the rows an UPDATE
   * or DELETE changed; with `RETURNING`, count the rows.
   */
  async run(text: string, params: readonly unknown[], within?: QueryRunner): Promise<RowSqlResult> {
    // PostgreSQL: prepared by name (parsed once a connection; these look rows up by key, so planned only the server's
    // first five times), about a dozen a generation. `{columns}`, not `*`: see `runPrepared`. A text with `*` runs
    // unnamed, as a guard.
    if (this.postgres && !text.includes('*')) {
      const { rows, rowCount } = await runPrepared(this.dataSource, this.sql(text), params, within);
      return { rows, affected: rowCount };
    }
    const runner = within ?? this.dataSource.createQueryRunner();
    try {
      // Integers bound as INTEGERs on SQLite, as TypeORM's own statements are here (sqlite-bound-numbers.ts).
      const values = this.postgres ? [...params] : params.map(sqliteParameter);
      const result = (await runner.query(this.sql(text), values, true)) as {
        records?: ObjectLiteral[];
        affected?: number;
      };
      return { rows: result.records ?? [], affected: result.affected ?? 0 };
    } finally {
      if (!within) await runner.release();
    }
  }

  /**
   * Inserts `row` (all its columns; false when `ifAbsent` and a row with its key exists). A column left undefined
   * takes its declared default, or null, in the row object too, as TypeORM's insert reads them back.
   */
  async insert(row: E, options: { ifAbsent?: boolean; within?: QueryRunner } = {}): Promise<boolean> {
    const target = row as ObjectLiteral;
    const params: unknown[] = [];
    for (const column of this.columns.values()) {
      let value: unknown = target[column.propertyName];
      if (value === undefined) {
        if (column.default !== undefined && typeof column.default !== 'function') value = column.default;
        else if (column.isNullable) value = null;
        else throw new Error(`RowSql: ${column.propertyName} is required to insert into ${this.table}`);
        target[column.propertyName] = value;
      }
      params.push(this.dataSource.driver.preparePersistentValue(value, column));
    }
    const text = this.insertTexts[options.ifAbsent ? 'ifAbsent' : 'plain'];
    return (await this.run(text, params, options.within)).affected === 1;
  }

  /** The first row a `SELECT {columns}` (or `… RETURNING {columns}`) gives, as the entity; null when it gives none. */
  async one(text: string, params: readonly unknown[], within?: QueryRunner): Promise<E | null> {
    const { rows } = await this.run(text, params, within);
    return rows.length > 0 ? this.entity(rows[0]) : null;
  }

  /** A row of `SELECT {columns}` (or `RETURNING {columns}`) as the entity, each column read back by the driver. */
  entity(raw: ObjectLiteral): E {
    const entity = this.metadata.create(undefined, { fromDeserializer: true }) as ObjectLiteral;
    for (const column of this.columns.values())
      entity[column.propertyName] = this.dataSource.driver.prepareHydratedValue(
        raw[column.databaseName],
        column,
      ) as unknown;
    return entity as E;
  }

  private column(property: string): ColumnMetadata {
    const column = this.columns.get(property);
    if (!column) throw new Error(`RowSql: no column for ${property}`);
    return column;
  }
}
