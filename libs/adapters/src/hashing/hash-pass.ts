import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { HashRunCounts } from '@app/core';
import { errorMessage } from '../reading/error-message.js';
import type { FileHashes } from '../reading/hasher.js';
import { companionsOf, indexDirListing, stemOf } from '../reading/sidecars.js';
import type { ScannedFile } from '../reading/scanner.js';
import type { AdapterEntity } from '../library/adapter.entity.js';
import type { AdapterRepository, UnhashedFile } from '../library/adapter.repository.js';
import type { LibraryRoot } from '../library/library-roots.js';
import type { ImportFailure } from '../import-runs/import-run.entity.js';
import { inspectToRow } from '../import-runs/inspect-task.js';
import { emptyHashCounts } from './hash-run.entity.js';
import type { FileHasher } from './file-hasher.js';

export interface HashPassHooks {
  signal: AbortSignal;
  /** The counts so far and the file being hashed (relative to its root); called at least once a second. */
  onProgress?: (counts: HashRunCounts, failures: ImportFailure[], currentPath?: string) => void;
}

export interface HashPassResult {
  counts: HashRunCounts;
  failures: ImportFailure[];
}

/** Rows written per transaction: short write locks, so queries and imports never wait long. */
const ROWS_PER_WRITE = 25;
const WRITE_EVERY_MS = 1000;
const PROGRESS_EVERY_MS = 500;
const MAX_LISTED = 1000;
/** Folders whose listing is kept while files are hashed (files of one folder are often hashed one after another). */
const LISTINGS_KEPT = 64;

/**
 * One hash run over every present file whose hash was never computed, newest first: each file is hashed once
 * (SHA-256, AutoV2, AutoV3 in one read), then its header and sidecars are read again and merged with the computed
 * hashes, exactly as an import with `--hash full` would, so a sidecar's wrong claim gives way to the file (with a
 * warning) and the user's edits stay. Rows are written as it goes: a run stopped halfway has kept what it did, and
 * the next one starts with what is left.
 */
export class HashPass {
  private readonly counts = emptyHashCounts();
  private readonly failures: ImportFailure[] = [];
  private batch: AdapterEntity[] = [];
  private writtenAt = Date.now();
  private progressAt = 0;
  private readonly listings = new Map<string, string[]>();

  constructor(
    private readonly adapters: AdapterRepository,
    private readonly roots: readonly LibraryRoot[],
    private readonly hasher: FileHasher,
    private readonly hooks: HashPassHooks,
  ) {}

  async run(): Promise<HashPassResult> {
    const files = await this.adapters.unhashedFiles();
    this.counts.total = files.length;
    this.progress();
    const rootsById = new Map(this.roots.map((r) => [r.id, r]));
    try {
      for (const file of files) {
        this.hooks.signal.throwIfAborted();
        const root = rootsById.get(file.rootId);
        // A root no longer configured: its files cannot be reached (an import of it would tombstone them).
        if (!root) this.counts.skipped++;
        else await this.hashOne(file, root);
        if (this.batch.length >= ROWS_PER_WRITE || Date.now() - this.writtenAt >= WRITE_EVERY_MS) await this.write();
      }
    } finally {
      // What was hashed before a cancel or a failure is kept.
      await this.write();
    }
    this.progress();
    return { counts: this.counts, failures: this.failures };
  }

  private async hashOne(file: UnhashedFile, root: LibraryRoot): Promise<void> {
    const absPath = join(root.realPath, file.relativePath);
    this.progress(file.relativePath, true);
    const before = await stat(absPath).catch(() => null);
    if (!before?.isFile()) {
      this.counts.skipped++;
      return;
    }
    let hashes: FileHashes;
    try {
      hashes = await this.hasher.hash(absPath, this.hooks.signal);
    } catch (error) {
      this.hooks.signal.throwIfAborted();
      this.fail(file.relativePath, `hash: ${errorMessage(error)}`);
      return;
    }
    this.counts.bytes += hashes.size;
    const after = await stat(absPath).catch(() => null);
    const [existing] = await this.adapters.snapshotsByIds([file.id]);
    // Changed, gone or re-read meanwhile: the next import (or run) takes it from there.
    if (
      !after ||
      after.size !== before.size ||
      after.mtimeMs !== before.mtimeMs ||
      !existing ||
      existing.missingSince !== null ||
      existing.sha256Verified ||
      existing.fileSize !== after.size ||
      existing.fileMtimeMs !== after.mtimeMs
    ) {
      this.counts.skipped++;
      return;
    }
    const scanned: ScannedFile = {
      type: 'file',
      absPath,
      relPath: file.relativePath,
      name: absPath.slice(dirname(absPath).length + 1),
      size: after.size,
      mtimeMs: after.mtimeMs,
      dev: after.dev,
      ino: after.ino,
      viaSymlink: false,
      dirListing: companionsOf(
        indexDirListing(await this.listing(dirname(absPath))),
        stemOf(file.relativePath.split('/').pop()!),
      ),
    };
    const outcome = await inspectToRow({ file: scanned, root, existing, hashes, hash: true }, new Date(), false);
    for (const f of outcome.failures) this.fail(file.relativePath, f.reason);
    if (!outcome.row) return;
    this.counts.hashed++;
    if (existing.sha256 !== null && existing.sha256 !== hashes.sha256) this.counts.mismatched++;
    this.batch.push(outcome.row);
  }

  private async listing(dir: string): Promise<string[]> {
    const known = this.listings.get(dir);
    if (known) return known;
    const names = (await readdir(dir, { withFileTypes: true }).catch(() => []))
      .filter((e) => !e.isDirectory())
      .map((e) => e.name);
    if (this.listings.size >= LISTINGS_KEPT) this.listings.delete(this.listings.keys().next().value!);
    this.listings.set(dir, names);
    return names;
  }

  private async write(): Promise<void> {
    const rows = this.batch;
    this.batch = [];
    this.writtenAt = Date.now();
    if (rows.length > 0) await this.adapters.writeBatch(rows);
  }

  private fail(path: string, reason: string): void {
    this.counts.failed++;
    if (this.failures.length < MAX_LISTED) this.failures.push({ path, reason });
  }

  private progress(currentPath?: string, ifDue = false): void {
    const now = Date.now();
    if (ifDue && now - this.progressAt < PROGRESS_EVERY_MS) return;
    this.progressAt = now;
    this.hooks.onProgress?.({ ...this.counts }, this.failures, currentPath);
  }
}
