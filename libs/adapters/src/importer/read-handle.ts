import { closeSync, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * The few file operations the header and sidecar readers need, asynchronous or synchronous behind one shape.
 * A one-shot import (the CLI) reads small files synchronously: each async call is a thread-pool round trip,
 * and for 10,000 files of a few KB those round trips, not the disk, bound the import rate. A server keeps the
 * asynchronous form so that an import never stalls its other requests.
 */
export interface ReadHandle {
  stat(): Promise<Stats>;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  /** The whole file; `size` (from an earlier `stat`) saves a second one. */
  readFile(size?: number): Promise<Buffer>;
  close(): Promise<void>;
}

export async function openForRead(path: string, sync = false): Promise<ReadHandle> {
  if (!sync) {
    const fh = await open(path, 'r');
    return {
      stat: () => fh.stat(),
      read: (buffer, offset, length, position) => fh.read(buffer, offset, length, position),
      readFile: () => fh.readFile(),
      close: () => fh.close(),
    };
  }
  const fd = openSync(path, 'r');
  return {
    stat: () => Promise.resolve(fstatSync(fd)),
    read: (buffer, offset, length, position) =>
      Promise.resolve({ bytesRead: readSync(fd, buffer, offset, length, position) }),
    readFile: (known) => {
      const size = known ?? fstatSync(fd).size;
      const buffer = Buffer.allocUnsafe(size);
      let done = 0;
      while (done < size) {
        const n = readSync(fd, buffer, done, size - done, done);
        if (n === 0) break;
        done += n;
      }
      return Promise.resolve(done === size ? buffer : buffer.subarray(0, done));
    },
    close: () => {
      closeSync(fd);
      return Promise.resolve();
    },
  };
}
