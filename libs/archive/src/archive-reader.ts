import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { errorMessage, InvalidInputError } from '@app/core';
import { ArchiveEntry, type ArchiveManifest, checkManifest, entryNameProblem } from './archive-format.js';

export interface ArchiveLimits {
  maxEntries: number;
  maxUncompressedBytes: number;
  maxRatio: number;
}

/** Entries smaller than this are never refused for their ratio: a short JSON file compresses very well. */
const RATIO_CHECK_FROM_BYTES = 1024 * 1024;
const MAX_MANIFEST_BYTES = 1024 * 1024;

const unreadable = (error: unknown) =>
  new InvalidInputError(
    'archive_unreadable',
    `The archive is not a readable ZIP file (truncated or damaged?): ${errorMessage(error)}`,
  );

/**
 * A ZIP archive opened for import, every entry checked before any is read: names (no `..`, absolute paths or
 * backslashes), duplicates, count, declared total size and ratio. yauzl also stops any entry that inflates beyond
 * its declared size, so a lying header cannot slip past the caps.
 */
export class ArchiveReader {
  private constructor(
    private readonly zip: ZipFile,
    private readonly entries: Map<string, Entry>,
    readonly manifest: ArchiveManifest,
    readonly totalBytes: number,
  ) {}

  static async open(path: string, limits: ArchiveLimits): Promise<ArchiveReader> {
    let zip: ZipFile;
    try {
      zip = await yauzl.openPromise(path, {
        lazyEntries: true,
        autoClose: false,
        decodeStrings: false,
        validateEntrySizes: true,
      });
    } catch (error) {
      throw unreadable(error);
    }
    try {
      const { entries, totalBytes } = await ArchiveReader.checkEntries(zip, limits);
      const reader = new ArchiveReader(zip, entries, { counts: {} } as ArchiveManifest, totalBytes);
      const manifest = checkManifest(await reader.readJson(ArchiveEntry.Manifest, MAX_MANIFEST_BYTES));
      return new ArchiveReader(zip, entries, manifest, totalBytes);
    } catch (error) {
      zip.close();
      throw error;
    }
  }

  private static async checkEntries(
    zip: ZipFile,
    limits: ArchiveLimits,
  ): Promise<{ entries: Map<string, Entry>; totalBytes: number }> {
    const refuse = (code: string, message: string) => new InvalidInputError(code, message);
    if (zip.entryCount > limits.maxEntries) {
      throw refuse(
        'archive_too_many_entries',
        `The archive has ${zip.entryCount} entries; at most ${limits.maxEntries} are accepted (ARCHIVE_MAX_ENTRIES)`,
      );
    }
    const entries = new Map<string, Entry>();
    let totalBytes = 0;
    try {
      for await (const entry of zip.eachEntry()) {
        const name = (entry.fileName as unknown as Buffer).toString('utf8');
        const problem = entryNameProblem(name);
        if (problem) throw refuse('archive_unsafe_entry', `Archive entry "${name}" ${problem}: refused`);
        if (name.endsWith('/')) continue;
        if (entries.has(name)) throw refuse('archive_duplicate_entry', `Archive entry "${name}" appears twice`);
        if (entry.isEncrypted()) throw refuse('archive_encrypted', `Archive entry "${name}" is encrypted`);
        totalBytes += entry.uncompressedSize;
        if (totalBytes > limits.maxUncompressedBytes) {
          throw refuse(
            'archive_too_large',
            `The archive unpacks to more than ${limits.maxUncompressedBytes} bytes (ARCHIVE_MAX_GB): refused`,
          );
        }
        const ratio = entry.uncompressedSize / Math.max(1, entry.compressedSize);
        if (entry.uncompressedSize >= RATIO_CHECK_FROM_BYTES && ratio > limits.maxRatio) {
          throw refuse(
            'archive_ratio_exceeded',
            `Archive entry "${name}" expands ${Math.round(ratio)} times (at most ${limits.maxRatio}, ARCHIVE_MAX_RATIO): refused as a zip bomb`,
          );
        }
        entries.set(name, entry);
      }
    } catch (error) {
      if (error instanceof InvalidInputError) throw error;
      throw unreadable(error);
    }
    if (!entries.has(ArchiveEntry.Manifest)) {
      throw refuse('archive_manifest_missing', 'The archive has no manifest.json: not a LoRA Manager archive');
    }
    return { entries, totalBytes };
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Entry names under a prefix, in archive order. */
  namesUnder(prefix: string): string[] {
    return [...this.entries.keys()].filter((name) => name.startsWith(prefix));
  }

  sizeOf(name: string): number {
    return this.entries.get(name)?.uncompressedSize ?? 0;
  }

  async open(name: string): Promise<Readable> {
    const entry = this.entries.get(name);
    if (!entry) throw new InvalidInputError('archive_entry_missing', `The archive has no ${name}`);
    try {
      const stream = await this.zip.openReadStreamPromise(entry);
      // A damaged entry fails while it is read: the same 4xx as one that fails to open.
      return stream;
    } catch (error) {
      throw unreadable(error);
    }
  }

  async readJson(name: string, maxBytes: number): Promise<unknown> {
    if (this.sizeOf(name) > maxBytes) throw new InvalidInputError('archive_entry_too_large', `${name} is too large`);
    const chunks: Buffer[] = [];
    try {
      for await (const part of await this.open(name)) chunks.push(part as Buffer);
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    } catch (error) {
      if (error instanceof InvalidInputError) throw error;
      throw new InvalidInputError('archive_entry_invalid', `${name} is not valid JSON: ${errorMessage(error)}`);
    }
  }

  /** The rows of an NDJSON entry, a page at a time; nothing when the archive has no such entry. */
  async *pages<T>(name: string, pageSize: number): AsyncIterable<T[]> {
    if (!this.has(name)) return;
    let page: T[] = [];
    let lineNo = 0;
    try {
      const lines = createInterface({ input: await this.open(name), crlfDelay: Infinity });
      for await (const line of lines) {
        lineNo++;
        if (line.trim() === '') continue;
        page.push(JSON.parse(line) as T);
        if (page.length >= pageSize) {
          yield page;
          page = [];
        }
      }
    } catch (error) {
      if (error instanceof InvalidInputError) throw error;
      throw new InvalidInputError(
        'archive_entry_invalid',
        `${name} line ${lineNo} cannot be read: ${errorMessage(error)}`,
      );
    }
    if (page.length > 0) yield page;
  }

  close(): void {
    this.zip.close();
  }
}
