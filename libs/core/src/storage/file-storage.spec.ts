import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { TestS3Server } from '../../../../test/support/s3-server.js';
import { TcpProxy } from '../../../../test/support/tcp-proxy.js';
import { parseConfig } from '../config/app-config.js';
import { FileStorage, LocalFileStorage, StorageFullError, StorageUnavailableError } from './file-storage.js';
import { S3FileStorage } from './s3-file-storage.js';

const s3 = new TestS3Server();
let run = 0;

beforeAll(async () => {
  await s3.start();
});
afterAll(async () => {
  await s3.stop();
});

const drain = async (objects: AsyncIterable<{ key: string; size: number }>): Promise<Array<[string, number]>> => {
  const found: Array<[string, number]> = [];
  for await (const object of objects) found.push([object.key, object.size]);
  return found.sort();
};

const failingStream = (): Readable => {
  let sent = 0;
  return new Readable({
    read() {
      // Several MiB first, so that an S3 upload has parts in flight when the source fails.
      if (sent < 12) {
        sent++;
        this.push(Buffer.alloc(1024 * 1024, sent));
      } else this.destroy(new Error('connection reset'));
    },
  });
};

describe.each([
  ['LocalFileStorage', (dataDir: string) => new LocalFileStorage(parseConfig({ DATA_DIR: dataDir }))],
  [
    'S3FileStorage',
    (dataDir: string) => new S3FileStorage(parseConfig({ DATA_DIR: dataDir, ...s3.env(`run-${++run}/files`) })),
  ],
])('%s (the FileStorage contract)', (_name, make: (dataDir: string) => FileStorage) => {
  let dataDir: string;
  let storage: FileStorage;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'storage-'));
    storage = make(dataDir);
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('should store a stream and read back the same bytes with their size', async () => {
    const { size } = await storage.putStream('results/a/b.png', Readable.from([Buffer.from('abc'), Buffer.from('de')]));
    expect(size).toBe(5);
    expect((await storage.get('results/a/b.png'))?.toString()).toBe('abcde');
    expect(await storage.stat('results/a/b.png')).toMatchObject({ key: 'results/a/b.png', size: 5 });
    const opened = await storage.open('results/a/b.png');
    expect(opened?.size).toBe(5);
    const chunks: Buffer[] = [];
    for await (const chunk of opened!.stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('abcde');
  });

  it('should store a stream larger than one upload part without changing a byte', async () => {
    const parts = Array.from({ length: 10 }, (_, i) => Buffer.alloc(1024 * 1024, i + 1));
    const { size } = await storage.putStream('exports/big.zip', Readable.from(parts));
    expect(size).toBe(10 * 1024 * 1024);
    const back = await storage.get('exports/big.zip');
    expect(back?.equals(Buffer.concat(parts))).toBe(true);
  });

  it('should put bytes, replace them, and delete them', async () => {
    await storage.put('thumbs/x.webp', Buffer.from('one'), { contentType: 'image/webp' });
    await storage.put('thumbs/x.webp', Buffer.from('second'));
    expect((await storage.get('thumbs/x.webp'))?.toString()).toBe('second');
    await storage.delete('thumbs/x.webp');
    await storage.delete('thumbs/x.webp'); // deleting what is gone is not an error
    expect(await storage.get('thumbs/x.webp')).toBeNull();
    expect(await storage.open('thumbs/x.webp')).toBeNull();
    expect(await storage.stat('thumbs/x.webp')).toBeNull();
  });

  it('should leave nothing under the key when the stream fails part way', async () => {
    await expect(storage.putStream('exports/x.zip', failingStream())).rejects.toThrow('connection reset');
    expect(await storage.stat('exports/x.zip')).toBeNull();
    expect(await drain(storage.list('exports/'))).toEqual([]);
  });

  it('should list only the keys under a prefix', async () => {
    await storage.put('results/1.png', Buffer.from('1'));
    await storage.put('results/deep/2.png', Buffer.from('22'));
    await storage.put('thumbs/3.webp', Buffer.from('333'));
    expect(await drain(storage.list('results/'))).toEqual([
      ['results/1.png', 1],
      ['results/deep/2.png', 2],
    ]);
  });

  it('should list past one page of keys', async () => {
    for (let batch = 0; batch < 1005; batch += 25) {
      const keys = Array.from({ length: Math.min(25, 1005 - batch) }, (_, i) => `many/${batch + i}.txt`);
      await Promise.all(keys.map((key) => storage.put(key, Buffer.from('x'))));
    }
    expect((await drain(storage.list('many/'))).length).toBe(1005);
  }, 60_000);

  it('should refuse a key that leaves the storage root', async () => {
    await expect(storage.putStream('../outside.txt', Readable.from(['x']))).rejects.toThrow('storage root');
    await expect(storage.stat('../../etc/passwd')).rejects.toThrow('storage root');
    await expect(storage.put('a/../../b', Buffer.from('x'))).rejects.toThrow('storage root');
  });

  it('should be writable', async () => {
    await expect(storage.checkWritable()).resolves.toBeUndefined();
  });
});

describe('LocalFileStorage on its disk', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'storage-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('should write into a folder that was removed since its last write there', async () => {
    const storage = new LocalFileStorage(parseConfig({ DATA_DIR: dataDir }));
    await storage.put('results/job-1/0.png', Buffer.from('first'));
    rmSync(join(dataDir, 'storage', 'results'), { recursive: true });
    await storage.put('results/job-1/1.png', Buffer.from('second'));
    expect((await storage.get('results/job-1/1.png'))?.toString()).toBe('second');
  });

  it('should refuse a write that would cross the reserve, however soon after one that did not', async () => {
    const disk = statfsSync(dataDir);
    const freeMb = Math.floor((disk.bavail * disk.bsize) / 2 ** 20);
    // 64 MB above the reserve: a small write goes through, a 512 MB one right after it would cross it.
    const storage = new LocalFileStorage(parseConfig({ DATA_DIR: dataDir, STORAGE_MIN_FREE_MB: String(freeMb - 64) }));
    await storage.put('a/1.bin', Buffer.from('x'));
    await expect(storage.put('a/2.bin', Buffer.alloc(512 * 2 ** 20))).rejects.toBeInstanceOf(StorageFullError);
    await expect(storage.put('a/3.bin', Buffer.from('y'))).resolves.toBeUndefined();
    expect(await storage.stat('a/2.bin')).toBeNull();
  });
});

describe('S3FileStorage when the server is unreachable', () => {
  it('should fail with storage_unavailable, not a bare network error', async () => {
    const proxy = new TcpProxy('127.0.0.1', s3.port);
    const port = await proxy.start();
    const storage = new S3FileStorage(parseConfig({ ...s3.env('down', port), S3_TIMEOUT_SECONDS: '1' }));
    await storage.put('a.txt', Buffer.from('a'));
    await proxy.cut();
    await expect(storage.get('a.txt')).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(storage.put('b.txt', Buffer.from('b'))).rejects.toMatchObject({ code: 'storage_unavailable' });
    await expect(storage.checkWritable()).rejects.toMatchObject({ code: 'storage_unavailable' });
    await proxy.restore();
    expect((await storage.get('a.txt'))?.toString()).toBe('a');
    await proxy.blackhole();
    await expect(storage.stat('a.txt')).rejects.toMatchObject({ code: 'storage_unavailable' });
    await proxy.stop();
  }, 30_000);
});
