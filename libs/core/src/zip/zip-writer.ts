import { once } from 'node:events';
import { Readable } from 'node:stream';
import ZipStream from 'zip-stream';

export interface ZipEntryOptions {
  /** The entry's modification time (now when absent). */
  mtime?: Date;
  /** Deflate the entry (the default); images and model weights are stored as they are. */
  compress?: boolean;
}

/**
 * A ZIP archive produced as it is read (zip-stream): entries are written one at a time, each source streamed through
 * without buffering, and only the central directory (one entry object per file, ~1 KB) is held until the end. ZIP64 records
 * are written when an entry or the archive passes 4 GiB or 65,535 entries.
 */
export class ZipWriter {
  private readonly zip = new ZipStream({ zlib: { level: 6 } });
  private readonly closed: Promise<never>;

  constructor() {
    this.closed = new Promise<never>((_resolve, reject) =>
      this.zip.once('close', () => reject(new Error('the archive was closed before the entry was written'))),
    );
    this.closed.catch(() => undefined);
  }

  /** The archive's bytes; destroying it (a client that went away) stops the entry being written. */
  get output(): Readable {
    return this.zip;
  }

  /**
   * Writes one entry and resolves once its source has been read to the end and the reader has taken the bytes
   * (backpressure: a slow reader slows the writer). Entries go one at a time: await each before the next.
   */
  async add(name: string, source: Buffer | Readable, options: ZipEntryOptions = {}): Promise<void> {
    const written = new Promise<void>((resolve, reject) =>
      this.zip.entry(source, { name, date: options.mtime, store: options.compress === false }, (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    try {
      await Promise.race([written, this.closed]);
      if (this.zip.writableNeedDrain) await Promise.race([once(this.zip, 'drain'), this.closed]);
    } catch (error) {
      if (source instanceof Readable) source.destroy();
      throw error;
    }
  }

  /** Writes the central directory and ends the output once the reader has taken it. */
  finish(): void {
    this.zip.finalize();
  }

  /** Ends the archive short with the error, so that a download fails instead of looking complete. */
  abort(error: unknown): void {
    this.zip.destroy(error instanceof Error ? error : new Error(String(error)));
  }
}
