import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { parseConfig } from '../config/app-config.js';
import { LocalFileStorage } from './file-storage.js';

describe('LocalFileStorage', () => {
  let dataDir: string;
  let storage: LocalFileStorage;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'storage-'));
    storage = new LocalFileStorage(parseConfig({ DATA_DIR: dataDir }));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('should store a stream and read back the same bytes with their size', async () => {
    const { size } = await storage.putStream('results/a/b.png', Readable.from([Buffer.from('abc'), Buffer.from('de')]));
    expect(size).toBe(5);
    expect((await storage.get('results/a/b.png'))?.toString()).toBe('abcde');
    expect(await storage.stat('results/a/b.png')).toMatchObject({ key: 'results/a/b.png', size: 5 });
  });

  it('should leave nothing under the key when the stream fails part way', async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.from('partial'));
        this.destroy(new Error('connection reset'));
      },
    });
    await expect(storage.putStream('exports/x.zip', failing)).rejects.toThrow('connection reset');
    expect(await storage.stat('exports/x.zip')).toBeNull();
    const keys: string[] = [];
    for await (const object of storage.list('exports/')) keys.push(object.key);
    expect(keys).toEqual([]);
  });

  it('should list only the keys under a prefix', async () => {
    await storage.put('results/1.png', Buffer.from('1'));
    await storage.put('results/deep/2.png', Buffer.from('22'));
    await storage.put('thumbs/3.webp', Buffer.from('333'));
    const found: Array<[string, number]> = [];
    for await (const object of storage.list('results/')) found.push([object.key, object.size]);
    expect(found.sort()).toEqual([
      ['results/1.png', 1],
      ['results/deep/2.png', 2],
    ]);
  });

  it('should refuse a key that leaves the storage root', async () => {
    await expect(storage.putStream('../outside.txt', Readable.from(['x']))).rejects.toThrow('storage root');
    await expect(storage.stat('../../etc/passwd')).rejects.toThrow('storage root');
  });
});
