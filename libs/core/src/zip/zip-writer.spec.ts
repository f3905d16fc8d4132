import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from '@jest/globals';
import yauzl from 'yauzl';
import { ZipWriter } from './zip-writer.js';

interface ReadEntry {
  name: string;
  size: number;
  content?: string;
}

/** Every entry of a ZIP held in memory; yauzl checks the structure and, for the contents it reads, the CRCs. */
async function entriesOf(zip: Buffer, withContent: (name: string) => boolean = () => true): Promise<ReadEntry[]> {
  const file = await yauzl.fromBufferPromise(zip, { lazyEntries: true, validateEntrySizes: true });
  return readAll(file, withContent);
}

async function readAll(file: yauzl.ZipFile, withContent: (name: string) => boolean): Promise<ReadEntry[]> {
  const entries: ReadEntry[] = [];
  for await (const entry of file.eachEntry()) {
    const read: ReadEntry = { name: entry.fileName, size: entry.uncompressedSize };
    if (withContent(entry.fileName)) {
      const chunks: Buffer[] = [];
      for await (const chunk of await file.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
      read.content = Buffer.concat(chunks).toString();
    }
    entries.push(read);
  }
  return entries;
}

async function collect(source: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of source) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Serves reads from the last bytes of an archive too large to keep: enough for yauzl to read the central directory. */
class TailReader extends yauzl.RandomAccessReader {
  constructor(
    private readonly tail: Buffer,
    private readonly total: number,
  ) {
    super();
  }

  _readStreamForRange(start: number, end: number): Readable {
    const offset = this.total - this.tail.length;
    if (start < offset) throw new Error(`read at ${start} is before the kept tail (${offset})`);
    return Readable.from([this.tail.subarray(start - offset, end - offset)]);
  }
}

describe(ZipWriter.name, () => {
  it('should write an empty archive that readers open', async () => {
    const zip = new ZipWriter();
    const bytes = collect(zip.output);
    zip.finish();
    expect(await entriesOf(await bytes)).toEqual([]);
  });

  it('should write buffers and streams, stored or deflated, in the order added', async () => {
    const zip = new ZipWriter();
    const bytes = collect(zip.output);
    await zip.add('a.json', Buffer.from('{"a":1}'));
    await zip.add('images/b.png', Readable.from([Buffer.from('PNG'), Buffer.from('DATA')]), { compress: false });
    await zip.add('c.txt', Readable.from(['x'.repeat(10_000)]), { mtime: new Date('2026-01-02T03:04:06Z') });
    zip.finish();
    const archive = await bytes;
    expect(await entriesOf(archive)).toEqual([
      { name: 'a.json', size: 7, content: '{"a":1}' },
      { name: 'images/b.png', size: 7, content: 'PNGDATA' },
      { name: 'c.txt', size: 10_000, content: 'x'.repeat(10_000) },
    ]);
    // Deflated: 10,000 equal bytes take far less room.
    expect(archive.length).toBeLessThan(2_000);
  });

  it('should write more than 65,535 entries (ZIP64 end records)', async () => {
    const count = 70_000;
    const zip = new ZipWriter();
    const bytes = collect(zip.output);
    for (let i = 0; i < count; i++) await zip.add(`r/${i}.json`, Buffer.from(`{"i":${i}}`), { compress: false });
    zip.finish();
    const entries = await entriesOf(await bytes, (name) => name === 'r/0.json' || name === `r/${count - 1}.json`);
    expect(entries).toHaveLength(count);
    expect(entries[count - 1]).toEqual({ name: `r/${count - 1}.json`, size: 11, content: `{"i":${count - 1}}` });
    expect(entries[0].content).toBe('{"i":0}');
  }, 120_000);

  it('should record an entry larger than 4 GiB with its true size (ZIP64)', async () => {
    const size = 2 ** 32 + 3 * 2 ** 20;
    const chunk = Buffer.alloc(2 ** 20, 7);
    const zip = new ZipWriter();
    let total = 0;
    let tail = Buffer.alloc(0);
    const keepTail = pipeline(
      zip.output,
      new Writable({
        write(data: Buffer, _encoding, done) {
          total += data.length;
          tail = Buffer.concat([tail, data]).subarray(-131_072);
          done();
        },
      }),
    );
    const big = Readable.from(
      (function* () {
        for (let sent = 0; sent < size; sent += chunk.length) yield chunk;
      })(),
    );
    await zip.add('files/huge.safetensors', big, { compress: false });
    await zip.add('manifest.json', Buffer.from('{}'));
    zip.finish();
    await keepTail;
    const file = await yauzl.fromRandomAccessReaderPromise(new TailReader(tail, total), total, { lazyEntries: true });
    const entries = await readAll(file, () => false);
    expect(entries).toEqual([
      { name: 'files/huge.safetensors', size },
      { name: 'manifest.json', size: 2 },
    ]);
    expect(total).toBeGreaterThan(size);
  }, 300_000);

  it('should reject the entry when its source fails', async () => {
    const zip = new ZipWriter();
    void collect(zip.output).catch(() => undefined);
    const failing = new Readable({
      read() {
        this.destroy(new Error('disk read failed'));
      },
    });
    await expect(zip.add('broken.bin', failing, { compress: false })).rejects.toThrow('disk read failed');
  });

  it('should stop the entry and close its source when the archive is aborted', async () => {
    const zip = new ZipWriter();
    // Nobody reads: the entry stalls on backpressure until the abort.
    let closed = false;
    const endless = new Readable({
      read() {
        this.push(Buffer.alloc(65_536));
      },
    });
    endless.once('close', () => (closed = true));
    zip.output.on('error', () => undefined);
    const adding = zip.add('endless.bin', endless, { compress: false });
    setTimeout(() => zip.abort(new Error('client went away')), 50);
    await expect(adding).rejects.toThrow();
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(true);
  });
});
