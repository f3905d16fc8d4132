import { Column, type ColumnOptions, PrimaryColumn } from 'typeorm';
import { DatabaseType, loadConfig } from '../config/app-config.js';

/**
 * Column types that differ between the two databases. The dialect is read from the validated config when
 * the entity module loads, because TypeORM reads decorator metadata then.
 */
export function dialect(): DatabaseType {
  return loadConfig().database.type;
}

const isPg = (): boolean => dialect() === DatabaseType.Postgres;

export const columnTypes = {
  json: (): 'jsonb' | 'simple-json' => (isPg() ? 'jsonb' : 'simple-json'),
  timestamp: (): 'timestamptz' | 'datetime' => (isPg() ? 'timestamptz' : 'datetime'),
  uuid: (): 'uuid' | 'varchar' => (isPg() ? 'uuid' : 'varchar'),
  double: (): 'double precision' | 'real' => (isPg() ? 'double precision' : 'real'),
  bigint: (): 'bigint' | 'integer' => (isPg() ? 'bigint' : 'integer'),
};

/** A uuid primary key; ids are generated in code (`randomUUID()`), so no database default is needed. */
export const UuidPrimaryColumn = (): PropertyDecorator =>
  PrimaryColumn({ type: columnTypes.uuid(), length: isPg() ? undefined : 36 });

/** A JSON value: `jsonb` on PostgreSQL, JSON text on SQLite. */
export const JsonColumn = (options: Omit<ColumnOptions, 'type'> = {}): PropertyDecorator =>
  Column({ type: columnTypes.json(), ...options });

/** A point in time: `timestamptz` on PostgreSQL, UTC datetime text on SQLite. */
export const TimestampColumn = (options: Omit<ColumnOptions, 'type'> = {}): PropertyDecorator =>
  Column({ type: columnTypes.timestamp(), ...options });

export const UuidColumn = (options: Omit<ColumnOptions, 'type' | 'length'> = {}): PropertyDecorator =>
  Column({ type: columnTypes.uuid(), length: isPg() ? undefined : 36, ...options });

/** PostgreSQL returns `COUNT(*)` and bigint as strings, SQLite as numbers. */
export function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') return Number(value);
  if (typeof value === 'bigint') return Number(value);
  return 0;
}

/** Splits rows into chunks so that a multi-row statement stays under both databases' parameter limits. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
