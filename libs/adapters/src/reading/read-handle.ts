import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, holding a thread-pool thread forever.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/** A library file that is a FIFO, a device, a socket or a directory: never read (it may never end). */
export class NotARegularFileError extends Error {
  override readonly name = 'NotARegularFileError';
  readonly code = 'ENOTREG';

  constructor(
    readonly path: string,
    readonly fileType: string,
  ) {
    super(`Not a regular file (${fileType}): ${path}`);
  }
}

function fileTypeOf(st: Stats): string {
  if (st.isFIFO()) return 'FIFO';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  if (st.isSocket()) return 'socket';
  if (st.isDirectory()) return 'directory';
  return 'special file';
}

/** Open `path` for reading without blocking and check the opened file (not the path) is a regular file. */
export async function openRegularFile(path: string): Promise<{ fh: FileHandle; stats: Stats }> {
  const fh = await open(path, OPEN_FLAGS);
  try {
    const stats = await fh.stat();
    if (!stats.isFile()) throw new NotARegularFileError(path, fileTypeOf(stats));
    return { fh, stats };
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
}

function openRegularFileSync(path: string): { fd: number; stats: Stats } {
  const fd = openSync(path, OPEN_FLAGS);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new NotARegularFileError(path, fileTypeOf(stats));
    return { fd, stats };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * The few file operations the header and sidecar readers need, asynchronous or synchronous behind one shape.
 * A one-shot import (the CLI) reads small files synchronously: each async call is a thread-pool round trip,
 * and for 10,000 files of a few KB those round trips, not the disk, bound the import rate. A server keeps the
 * asynchronous form so that an import never stalls its other requests.
 */
export interface ReadHandle {
  /** The opened file's stats (a regular file: `openForRead` refuses anything else). */
  readonly stats: Stats;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  /** The file from its start, but never more than `maxBytes + 1` bytes: a longer result means "too large". */
  readUpTo(maxBytes: number): Promise<Buffer>;
  close(): Promise<void>;
}

/** Opens a regular file for reading (see `openRegularFile`); throws `NotARegularFileError` for anything else. */
export async function openForRead(path: string, sync = false): Promise<ReadHandle> {
  if (!sync) {
    const { fh, stats } = await openRegularFile(path);
    return readHandleOf(fh, stats);
  }
  const { fd, stats } = openRegularFileSync(path);
  const read = (buffer: Buffer, offset: number, length: number, position: number) =>
    Promise.resolve({ bytesRead: readSync(fd, buffer, offset, length, position) });
  return {
    stats,
    read,
    readUpTo: (maxBytes) => readUpTo(read, stats.size, maxBytes),
    close: () => {
      closeSync(fd);
      return Promise.resolve();
    },
  };
}

/** A `ReadHandle` over a file already opened with `openRegularFile`; closing it closes `fh`. */
export function readHandleOf(fh: FileHandle, stats: Stats): ReadHandle {
  const read = (buffer: Buffer, offset: number, length: number, position: number) =>
    fh.read(buffer, offset, length, position);
  return { stats, read, readUpTo: (maxBytes) => readUpTo(read, stats.size, maxBytes), close: () => fh.close() };
}

/** Reads until end of file or `maxBytes + 1` bytes, whatever the size said: a file may grow while it is read. */
async function readUpTo(read: ReadHandle['read'], sizeHint: number, maxBytes: number): Promise<Buffer> {
  const limit = maxBytes + 1;
  let buffer = Buffer.allocUnsafe(Math.min(sizeHint + 1, limit));
  let done = 0;
  for (;;) {
    if (done === buffer.length) {
      if (done >= limit) break;
      const bigger = Buffer.allocUnsafe(Math.min(buffer.length * 2, limit));
      buffer.copy(bigger, 0, 0, done);
      buffer = bigger;
    }
    const asked = buffer.length - done;
    const { bytesRead } = await read(buffer, done, asked, done);
    done += bytesRead;
    // A short read of a regular file that gave what its size promised is its end: no second read to see 0.
    if (bytesRead === 0 || (bytesRead < asked && done >= sizeHint)) break;
  }
  return buffer.subarray(0, done);
}
