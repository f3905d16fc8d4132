import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { DataSource, EntitySchema, type Logger } from 'typeorm';
import { bindSqliteNumbers } from './sqlite-bound-numbers.js';

interface Item {
  id: string;
  label: string | null;
  count: number;
  seed: number | null;
  score: number | null;
  flag: boolean;
}

const ItemSchema = new EntitySchema<Item>({
  name: 'item',
  tableName: 'items',
  columns: {
    id: { type: 'varchar', primary: true },
    label: { type: 'varchar', nullable: true },
    count: { type: 'integer' },
    seed: { type: 'integer', nullable: true },
    score: { type: 'real', nullable: true },
    flag: { type: 'boolean' },
  },
});

describe('bindSqliteNumbers', () => {
  let dataSource: DataSource;
  let statements: string[];

  beforeEach(async () => {
    statements = [];
    const logger = { logQuery: (sql: string) => statements.push(sql) } as unknown as Logger;
    dataSource = bindSqliteNumbers(
      new DataSource({ type: 'better-sqlite3', database: ':memory:', entities: [ItemSchema], logging: true, logger }),
    );
    await dataSource.initialize();
    await dataSource.query(
      'CREATE TABLE items (id varchar PRIMARY KEY, label varchar, count integer NOT NULL, seed integer, score real, flag boolean NOT NULL)',
    );
    statements = [];
  });

  afterEach(async () => {
    await dataSource.destroy();
  });

  const repo = () => dataSource.getRepository(ItemSchema);

  it('should send one statement text whatever the numbers are', async () => {
    await repo().insert({ id: 'a', label: null, count: 1, seed: 3_570_417_648, score: 0.25, flag: true });
    await repo().insert({ id: 'b', label: null, count: 2, seed: 850_032_024, score: 0.75, flag: false });
    await repo().update({ id: 'a' }, { seed: 1_234_567, score: 0.5, count: 3 });
    await repo().update({ id: 'b' }, { seed: 7_654_321, score: 0.125, count: 4 });
    const inserts = statements.filter((s) => s.startsWith('INSERT'));
    const updates = statements.filter((s) => s.startsWith('UPDATE'));
    expect(inserts).toHaveLength(2);
    expect(inserts[1]).toBe(inserts[0]);
    expect(updates).toHaveLength(2);
    expect(updates[1]).toBe(updates[0]);
    expect(updates[0]).not.toMatch(/1234567|0\.5/);
  });

  it('should store numbers as the literals did: integers as INTEGER, fractions as REAL', async () => {
    await repo().insert({ id: 'a', label: null, count: 7, seed: 3_570_417_648, score: 0.5, flag: true });
    // A number written into a text column: the literal stored "7", and so must the bound value (not "7.0").
    await repo().update({ id: 'a' }, { label: 7 as unknown as string, count: -2 });
    const [row] = await dataSource.query<Record<string, unknown>[]>(
      'SELECT label, typeof(label) AS labelType, count, typeof(count) AS countType, seed, typeof(seed) AS seedType, score, typeof(score) AS scoreType, flag FROM items',
    );
    expect(row).toEqual({
      label: '7',
      labelType: 'text',
      count: -2,
      countType: 'integer',
      seed: 3_570_417_648,
      seedType: 'integer',
      score: 0.5,
      scoreType: 'real',
      flag: 1,
    });
  });

  it('should find rows by bound numbers, in where clauses and comparisons', async () => {
    await repo().insert([
      { id: 'a', label: '1', count: 1, seed: 10, score: 0.5, flag: true },
      { id: 'b', label: '2', count: 2, seed: 20, score: 1.5, flag: false },
    ]);
    expect((await repo().findBy({ count: 2 })).map((r) => r.id)).toEqual(['b']);
    expect((await repo().findBy({ label: 1 as unknown as string })).map((r) => r.id)).toEqual(['a']);
    const above = await repo()
      .createQueryBuilder('i')
      .where('i.score > :min AND i.seed < :max', { min: 1, max: 25 })
      .getMany();
    expect(above.map((r) => r.id)).toEqual(['b']);
    expect((await repo().findBy({ flag: false })).map((r) => r.id)).toEqual(['b']);
  });
});
