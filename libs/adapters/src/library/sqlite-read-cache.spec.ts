import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { tempDir } from '../../../../test/support/test-services.js';
import { SqliteReadCache } from './sqlite-read-cache.js';

const SELECT = 'SELECT name FROM items ORDER BY name';
const names = (rows: { name: string }[]): string[] => rows.map((r) => r.name);

describe('SqliteReadCache', () => {
  const dir = tempDir('read-cache');
  const file = join(dir.path, 'cache.sqlite');
  let dataSource: DataSource;
  let cache: SqliteReadCache;
  let statements: string[];

  beforeEach(async () => {
    dataSource = await new DataSource({ type: 'better-sqlite3', database: file, enableWAL: true }).initialize();
    await dataSource.query('DROP TABLE IF EXISTS items');
    await dataSource.query('CREATE TABLE items (name TEXT)');
    await dataSource.query(`INSERT INTO items (name) VALUES ('a')`);
    cache = new SqliteReadCache(dataSource, 10);
    // What reaches the database: the cache's own version statement runs on the driver's connection, not here.
    statements = [];
    const query = dataSource.query.bind(dataSource);
    dataSource.query = ((sql: string, params?: unknown[]) => {
      statements.push(sql);
      return query(sql, params);
    }) as DataSource['query'];
  });

  afterEach(async () => {
    await dataSource.destroy();
    dir.remove();
  });

  it('should answer a repeated read from memory while nothing changes', async () => {
    expect(names(await cache.read(SELECT, []))).toEqual(['a']);
    expect(names(await cache.read(SELECT, []))).toEqual(['a']);
    expect(statements).toEqual([SELECT]);
  });

  it('should read again after a write on the same connection', async () => {
    await cache.read(SELECT, []);
    await dataSource.query(`INSERT INTO items (name) VALUES ('b')`);
    expect(names(await cache.read(SELECT, []))).toEqual(['a', 'b']);
  });

  it('should read again after another connection commits (a CLI import beside the API)', async () => {
    await cache.read(SELECT, []);
    const other = new Database(file);
    other.prepare(`INSERT INTO items (name) VALUES ('c')`).run();
    other.close();
    expect(names(await cache.read(SELECT, []))).toEqual(['a', 'c']);
  });

  it('should not serve stale rows when a write lands between the version check and the read', async () => {
    // The write runs once the read has checked the version and is on its way to the database.
    const query = dataSource.query.bind(dataSource);
    let writeFirst = true;
    dataSource.query = (async (sql: string, params?: unknown[]) => {
      if (writeFirst && sql === SELECT) {
        writeFirst = false;
        await query(`INSERT INTO items (name) VALUES ('d')`);
      }
      return query(sql, params);
    }) as DataSource['query'];
    expect(names(await cache.read(SELECT, []))).toEqual(['a', 'd']);
    await query(`DELETE FROM items WHERE name = 'a'`);
    expect(names(await cache.read(SELECT, []))).toEqual(['d']);
  });

  it('should keep nothing read inside a transaction of the shared connection', async () => {
    await dataSource
      .transaction(async () => {
        const driver = dataSource.driver as unknown as { databaseConnection: Database.Database };
        driver.databaseConnection.prepare(`INSERT INTO items (name) VALUES ('e')`).run();
        expect(names(await cache.read(SELECT, []))).toEqual(['a', 'e']);
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect(names(await cache.read(SELECT, []))).toEqual(['a']);
  });
});
