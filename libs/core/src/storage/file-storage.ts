import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, statfs, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { DomainError, DomainErrorKind, InvalidInputError, UnavailableError } from '../errors/domain-error.js';

export interface StoredObject {
  key: string;
  size: number;
  modifiedAt: Date;
}

export interface PutOptions {
  /** The object's media type where the storage keeps one (S3); local files are typed by their extension. */
  contentType?: string;
}

/** An opened object: its bytes as a stream, its size, and its media type when the storage knows it. */
export interface OpenedObject {
  stream: Readable;
  size: number;
  contentType?: string;
}

/** Thrown when the storage does not answer (connection refused, timeout): the API answers 503, jobs retry. */
export class StorageUnavailableError extends UnavailableError {
  constructor(message: string) {
    super('storage_unavailable', `File storage is not reachable: ${message}`);
  }
}

/**
 * Thrown when the storage's disk is full, or a write would leave less free than STORAGE_MIN_FREE_MB: the API
 * answers 503 `storage_full`, a generation retries its write for STORAGE_WRITE_RETRY_SECONDS (room may be made).
 */
export class StorageFullError extends UnavailableError {
  constructor(message: string) {
    super('storage_full', `File storage is full: ${message}`);
  }
}

const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT']);

/** Turns a write's "no space" error into {@link StorageFullError}; other errors pass through. */
function asStorageFull(error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code && DISK_FULL_CODES.has(code) ? new StorageFullError(`${code}: the disk has no space left`) : error;
}

/** Thrown when the storage answers with an error of its own (5xx, access denied): the API answers 502. */
export class StorageUpstreamError extends DomainError {
  constructor(message: string) {
    super(DomainErrorKind.Upstream, 'storage_error', `File storage refused the request: ${message}`);
  }
}

/** The key as stored: `/`-separated, relative; `..`, absolute paths and empty segments are refused. */
export function checkedStorageKey(key: string): string {
  const segments = key.split('/');
  if (
    key === '' ||
    key.startsWith('/') ||
    key.includes('\\') ||
    key.includes('\0') ||
    segments.some((s) => s === '..' || s === '.' || s === '')
  ) {
    throw InvalidInputError.field('key', 'must stay inside the storage root');
  }
  return key;
}

/** Where generated images and other product files live. Keys are relative, `/`-separated. */
export abstract class FileStorage {
  abstract put(key: string, bytes: Buffer, options?: PutOptions): Promise<void>;
  /** Stores a stream under the key without buffering it; readers never see a partial object. Returns the size. */
  abstract putStream(key: string, source: Readable, options?: PutOptions): Promise<{ size: number }>;
  abstract get(key: string): Promise<Buffer | null>;
  /** The stored bytes as a stream with their size, or null when nothing is stored under the key. */
  abstract open(key: string): Promise<OpenedObject | null>;
  abstract delete(key: string): Promise<void>;
  /** Size and modification time of the object, or null when nothing is stored under the key. */
  abstract stat(key: string): Promise<StoredObject | null>;
  /** Every object whose key starts with the prefix (`results/`), in no particular order. */
  abstract list(prefix: string): AsyncIterable<StoredObject>;
  /** Throws when the storage cannot be written (readiness probe). */
  abstract checkWritable(): Promise<void>;
}

/** How long a reading of the disk's free space stands for writes that stay well inside it. */
const FREE_SPACE_READING_MS = 1000;
/** Folders remembered as existing (a generation writes into one of its own): forgotten all at once past this. */
const KNOWN_FOLDERS = 4096;

@Injectable()
export class LocalFileStorage extends FileStorage {
  private readonly root: string;
  private readonly minFreeBytes: number;
  /**
   * Folders this storage made or wrote into, so that a write there needs no `mkdir` first (a queued generation
   * writes two or three files: a syscall each is a tenth of its overhead). A folder removed meanwhile is made again
   * (see `writeNew`).
   */
  private readonly folders = new Set<string>();
  /** The disk's free bytes at the last reading, less what this storage wrote since; null: read it again. */
  private free: { bytes: number; readAt: number } | null = null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super();
    this.root = resolve(config.storageDir);
    this.minFreeBytes = config.storageMinFreeBytes;
  }

  /**
   * Refuses a write of `bytes` that would leave less than STORAGE_MIN_FREE_MB free on the storage's disk. The disk is
   * read once a second while writes stay inside what the last reading left; a write that would cross the reserve by
   * that reading reads the disk again, so a refusal is always by a fresh reading.
   */
  private async ensureRoom(dir: string, bytes: number): Promise<void> {
    if (this.minFreeBytes === 0) return;
    const now = Date.now();
    const known = this.free;
    if (!known || now - known.readAt > FREE_SPACE_READING_MS || known.bytes - bytes < this.minFreeBytes) {
      const disk = await statfs(dir);
      this.free = { bytes: disk.bavail * disk.bsize, readAt: now };
    }
    const free = this.free!;
    if (free.bytes - bytes < this.minFreeBytes) {
      const mb = (n: number) => Math.floor(n / (1024 * 1024));
      throw new StorageFullError(
        `${mb(free.bytes)} MB free on the disk of ${this.root}; writes stop while less than ${mb(this.minFreeBytes)} MB would be left (STORAGE_MIN_FREE_MB)`,
      );
    }
    free.bytes -= bytes;
  }

  /** Makes the folder (and its parents) unless this storage knows it exists. */
  private async ensureFolder(dir: string): Promise<void> {
    if (this.folders.has(dir)) return;
    await mkdir(dir, { recursive: true }).catch((error: unknown) => {
      throw asStorageFull(error);
    });
    if (this.folders.size >= KNOWN_FOLDERS) this.folders.clear();
    this.folders.add(dir);
  }

  /** Writes a new file into a folder this storage made: a folder removed since (by hand, a clean-up) is made again. */
  private async writeNew(dir: string, path: string, bytes: Buffer): Promise<void> {
    try {
      await writeFile(path, bytes);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !this.folders.delete(dir)) throw error;
      await this.ensureFolder(dir);
      await writeFile(path, bytes);
    }
  }

  private pathOf(key: string): string {
    const full = resolve(this.root, key);
    if (!full.startsWith(this.root + sep)) throw InvalidInputError.field('key', 'must stay inside the storage root');
    return full;
  }

  async put(key: string, bytes: Buffer): Promise<void> {
    const full = this.pathOf(key);
    const dir = dirname(full);
    await this.ensureFolder(dir);
    await this.ensureRoom(dir, bytes.length);
    // Write then rename: a reader never sees half a file.
    const temp = `${full}.${randomUUID()}.tmp`;
    try {
      await this.writeNew(dir, temp, bytes);
      await rename(temp, full);
    } catch (error) {
      await rm(temp, { force: true });
      throw asStorageFull(error);
    }
  }

  async putStream(key: string, source: Readable): Promise<{ size: number }> {
    const full = this.pathOf(key);
    await mkdir(dirname(full), { recursive: true }).catch((error: unknown) => {
      throw asStorageFull(error);
    });
    await this.ensureRoom(dirname(full), 0); // the size is known only at the end; the disk's own limit still holds
    const temp = `${full}.${randomUUID()}.tmp`;
    try {
      await pipeline(source, createWriteStream(temp));
      const { size } = await stat(temp);
      await rename(temp, full);
      return { size };
    } catch (error) {
      await rm(temp, { force: true });
      throw asStorageFull(error);
    }
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await readFile(this.pathOf(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async open(key: string): Promise<OpenedObject | null> {
    const full = this.pathOf(key);
    try {
      const { size } = await stat(full);
      return { stream: createReadStream(full), size };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async stat(key: string): Promise<StoredObject | null> {
    try {
      const facts = await stat(this.pathOf(key));
      return facts.isFile() ? { key, size: facts.size, modifiedAt: facts.mtime } : null;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<StoredObject> {
    // Walk from the deepest folder the prefix names, then filter by the whole prefix.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const start = folder === '' ? this.root : this.pathOf(folder);
    const pending = [start];
    while (pending.length > 0) {
      const dir = pending.pop()!;
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      for (const entry of entries) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) pending.push(full);
        else if (entry.isFile() && !entry.name.endsWith('.tmp') && !entry.name.startsWith('.ready-')) {
          const key = relative(this.root, full).split(sep).join('/');
          if (!key.startsWith(prefix)) continue;
          const facts = await stat(full).catch(() => null);
          if (facts) yield { key, size: facts.size, modifiedAt: facts.mtime };
        }
      }
    }
  }

  async checkWritable(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    const probe = join(this.root, `.ready-${randomUUID()}`);
    await writeFile(probe, 'ok');
    await stat(probe);
    await rm(probe, { force: true });
  }
}
