import { readdirSync, realpathSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { Logger } from '@nestjs/common';
import type { ImportCounts } from '@app/core';
import { errorMessage } from '../reading/error-message.js';
import { hashFile, type FileHashes } from '../reading/hasher.js';
import { findPreview } from '../reading/previews.js';
import { mapLimit, ScanErrorCode, type ScanFs, type ScannedFile, scanRoot, toPosix } from '../reading/scanner.js';
import { companionsOf, findSidecars, indexDirListing, stemOf } from '../reading/sidecars.js';
import type { AdapterEntity } from '../library/adapter.entity.js';
import type { AdapterFileState, AdapterRepository, AdapterSnapshot } from '../library/adapter.repository.js';
import type { LibraryRoot } from '../library/library-roots.js';
import { HashPolicy, type ImportFailure } from './import-run.entity.js';
import { emptyCounts, ImportChange, ImportPhase, type ImportProgress, type ImportReport } from './import-report.js';
import { InspectPool } from './inspect-pool.js';
import { digestOutcome, type InspectOutcome, type InspectTask, inspectToRow } from './inspect-task.js';

/** A folder an import scans: a library root, or a folder inside one. */
export interface ImportTarget {
  root: LibraryRoot;
  /** Absolute folder to scan. */
  dir: string;
  /** Its path relative to the root ('' for the root itself), posix. */
  prefix: string;
}

/** How one pass runs, settled before it starts. */
export interface ImportPassSettings {
  dryRun: boolean;
  force: boolean;
  policy: HashPolicy;
  /** `LORA_IGNORE` and the run's own globs. */
  ignore: string[];
  syncIo: boolean;
  /** Worker threads to read with; 0 reads on the main thread. */
  workers: number;
  /** The time every row of the pass is stamped with. */
  now: Date;
}

export interface ImportHooks {
  onProgress?: (p: ImportProgress) => void;
  signal?: AbortSignal;
}

/** A file the pass reads, with what the index knows of it. */
interface FileToRead {
  file: ScannedFile;
  root: LibraryRoot;
  /** The row this file updates, when it has one. */
  state?: AdapterFileState;
  /** That row's user fields, loaded just before it is rewritten. */
  existing?: AdapterSnapshot;
  change: ImportChange;
  from?: string;
  hashes?: FileHashes;
}

/** What the compare step leaves to do. */
interface Comparison {
  /** Known files that changed (or came back), to read again. */
  changed: FileToRead[];
  /** Paths the index does not know: new files, or known files moved. */
  unknown: FileToRead[];
  /** Rows whose file was not found where the pass looked. */
  vanished: AdapterFileState[];
}

const COUNT_OF: Record<ImportChange, keyof ImportCounts> = {
  [ImportChange.Added]: 'added',
  [ImportChange.Updated]: 'updated',
  [ImportChange.Moved]: 'moved',
  [ImportChange.Missing]: 'missing',
  [ImportChange.Restored]: 'restored',
};

/** The scanner's file-system calls, synchronous (for the one-shot CLI import: no thread-pool round trips). */
const SYNC_SCAN_FS: ScanFs = {
  readdir: (path, options) => Promise.resolve(readdirSync(path, options)),
  stat: (path) => Promise.resolve(statSync(path)),
  realpath: (path) => Promise.resolve(realpathSync(path)),
};

/**
 * Rows a write transaction takes. Each commit rewrites every index page its rows touched, and in a large index
 * a row's entries land on pages of their own, so fewer, larger commits keep the rate as the index grows.
 */
const BATCH_ROWS = 2000;
// Header and sidecar reads are small and latency-bound: keep many in flight (with UV_THREADPOOL_SIZE=16, see README).
const READ_CONCURRENCY = 48;
/** Files to read below which worker threads would cost more to start than they save. */
const POOL_MIN_FILES = 500;
const MAX_LISTED = 1000;
/** Progress is reported at least this often while files are found, compared or read (a CLI prints it). */
const PROGRESS_EVERY_MS = 1000;

const keyOf = (rootId: string, relPath: string): string => `${rootId}\0${relPath}`;

const under = (prefix: string, relPath: string): boolean =>
  prefix === '' || relPath === prefix || relPath.startsWith(`${prefix}/`);

/**
 * One import over its targets, step by step: scan the folders, compare what is found with the index, match
 * moves by content, read what is new or changed (written in batches as rows come), tombstone what vanished, and
 * finish with the report. Its fields are the run's running state; `ImportService` builds one per run.
 */
export class ImportPass {
  private readonly counts = emptyCounts();
  private readonly failures: ImportFailure[] = [];
  private failureCount = 0;
  private readonly changes: ImportReport['changes'] = [];
  private readonly started = Date.now();
  private progressAt = Date.now();
  /** Files read so far, and how many there are to read once the compare step knows. */
  private processed = 0;
  private total: number | null = null;
  private batch: AdapterEntity[] = [];
  private writing: Promise<void> = Promise.resolve();
  private pool: InspectPool | null = null;
  private readonly readingOf = new Map<InspectTask, FileToRead>();
  /** A first import (the index knows no file of these roots): files are read while the scan still runs. */
  private streaming = false;
  private readonly streamed: FileToRead[] = [];

  constructor(
    private readonly adapters: AdapterRepository,
    private readonly settings: ImportPassSettings,
    private readonly hooks: ImportHooks,
    private readonly logger: Logger,
  ) {}

  async run(targets: ImportTarget[]): Promise<ImportReport> {
    if (this.settings.dryRun) await this.steps(targets);
    else await this.adapters.bulkWrites(() => this.steps(targets));
    return this.finish();
  }

  private async steps(targets: ImportTarget[]): Promise<void> {
    let vanished: AdapterFileState[];
    let moved: ReadonlySet<string>;
    try {
      const states = await this.statesOf(targets);
      this.streaming = states.length === 0;
      const { scanned, unreadable } = await this.scan(targets);
      const comparison = await this.compare(targets, scanned, unreadable, states);
      vanished = comparison.vanished;
      moved = await this.matchMoves(comparison.unknown, vanished);
      const toRead = [...comparison.changed, ...comparison.unknown];
      await this.loadUserFields(toRead);
      await this.read(toRead);
      await this.writeBatch();
    } finally {
      await this.pool?.close();
    }
    await this.tombstone(vanished, moved);
  }

  /**
   * What the index knows of the targets: only rows under them can be compared, moved from or tombstoned, so a
   * folder's import reads that folder's rows, not the whole library's.
   */
  private async statesOf(targets: ImportTarget[]): Promise<AdapterFileState[]> {
    const wholeRoots = [...new Set(targets.filter((t) => t.prefix === '').map((t) => t.root.id))];
    const states = await this.adapters.fileStates(wholeRoots);
    const byId = new Map(states.map((s) => [s.id, s]));
    for (const t of targets.filter((t) => t.prefix !== '' && !wholeRoots.includes(t.root.id))) {
      for (const s of await this.adapters.fileStatesUnder(t.root.id, t.prefix)) byId.set(s.id, s);
    }
    return [...byId.values()];
  }

  /**
   * 1. Every target's files. Folders that could not be read are remembered, so their files are not taken for
   * deleted; on a first import each file found goes to the readers at once.
   */
  private async scan(targets: ImportTarget[]): Promise<{
    scanned: { target: ImportTarget; file: ScannedFile }[];
    unreadable: { rootId: string; prefix: string }[];
  }> {
    const scanned: { target: ImportTarget; file: ScannedFile }[] = [];
    const unreadable: { rootId: string; prefix: string }[] = [];
    const fs = this.settings.syncIo ? SYNC_SCAN_FS : undefined;
    for (const target of targets) {
      this.progress(ImportPhase.Scanning, target.dir);
      for await (const item of scanRoot(target.dir, { ignore: this.settings.ignore, base: target.prefix, fs })) {
        this.throwIfCancelled();
        if (item.type === 'error') {
          this.listFailure(item.absPath, `${item.code}: ${item.message}`);
          // A LoRA file that could not be stat'ed was found and failed; a folder is not a file.
          if (item.code === ScanErrorCode.StatFailed && item.absPath.toLowerCase().endsWith('.safetensors')) {
            this.counts.seen++;
            this.counts.failed++;
          }
          if (item.code === ScanErrorCode.BadRoot || item.code === ScanErrorCode.UnreadableDir) {
            const rel = toPosix(relative(target.root.realPath, item.absPath));
            unreadable.push({
              rootId: target.root.id,
              prefix: item.code === ScanErrorCode.BadRoot ? target.prefix : rel,
            });
          }
          continue;
        }
        const relPath = target.prefix ? `${target.prefix}/${item.relPath}` : item.relPath;
        const file = { ...item, relPath };
        this.counts.seen++;
        this.progressIfDue();
        if (this.streaming) this.readWhileScanning({ file, root: target.root, change: ImportChange.Added });
        else scanned.push({ target, file });
      }
    }
    this.progress(ImportPhase.Scanning);
    return { scanned, unreadable };
  }

  /** A first import's file: to a worker thread at once once there are enough to start them. */
  private readWhileScanning(toRead: FileToRead): void {
    this.streamed.push(toRead);
    if (this.pool) this.pool.submit([this.taskOf(toRead)]);
    else if (this.streamed.length === POOL_MIN_FILES) {
      this.pool = this.openPool();
      this.pool?.submit(this.streamed.map((r) => this.taskOf(r)));
    }
  }

  /** 2. Found files against the index: an unchanged file costs its stat (and its sidecars'), nothing more. */
  private async compare(
    targets: ImportTarget[],
    scanned: { target: ImportTarget; file: ScannedFile }[],
    unreadable: { rootId: string; prefix: string }[],
    states: AdapterFileState[],
  ): Promise<Comparison> {
    const { force, policy, syncIo } = this.settings;
    const byKey = new Map(states.map((row) => [keyOf(row.rootId, row.relativePath), row]));
    const seenKeys = new Set<string>();
    const changed: FileToRead[] = [];
    const unknown: FileToRead[] = [];
    await mapLimit(scanned, 32, async ({ target, file }) => {
      const key = keyOf(target.root.id, file.relPath);
      seenKeys.add(key);
      this.progressIfDue();
      const state = byKey.get(key);
      if (!state) {
        unknown.push({ file, root: target.root, change: ImportChange.Added });
        return;
      }
      // `--hash full` also completes what lazy runs left: an unchanged file whose hash was never computed.
      const unhashed = policy === HashPolicy.Full && !state.sha256Verified;
      if (
        !force &&
        !state.missing &&
        sameFile(state, file) &&
        !unhashed &&
        (await companionsUnchanged(state, file, syncIo))
      ) {
        this.counts.unchanged++;
        return;
      }
      changed.push({
        file,
        root: target.root,
        state,
        change: state.missing ? ImportChange.Restored : ImportChange.Updated,
      });
    });
    // Rows whose file is gone: inside what was scanned, and not under a folder that could not be read.
    const vanished = states.filter(
      (row) =>
        !seenKeys.has(keyOf(row.rootId, row.relativePath)) &&
        targets.some((t) => t.root.id === row.rootId && under(t.prefix, row.relativePath)) &&
        !unreadable.some((u) => u.rootId === row.rootId && under(u.prefix, row.relativePath)),
    );
    return { changed, unknown, vanished };
  }

  /**
   * 3. Moves: a new path whose content matches a vanished (or tombstoned) row keeps that row's identity.
   * Returns the ids of the rows that moved.
   */
  private async matchMoves(unknown: FileToRead[], vanished: AdapterFileState[]): Promise<Set<string>> {
    const candidates = vanished.filter((r) => r.fileSize > 0);
    const sizes = new Set(candidates.map((r) => r.fileSize));
    // Lazy hashing hashes a new file only when a vanished file of the same size could be its old self.
    const toHash = unknown.filter((r) => this.settings.policy === HashPolicy.Full || sizes.has(r.file.size));
    await mapLimit(toHash, 4, async (r) => {
      try {
        r.hashes = await hashFile(r.file.absPath);
        this.counts.hashed++;
        this.progressIfDue();
      } catch (error) {
        this.listFailure(r.file.absPath, `hash: ${errorMessage(error)}`);
      }
    });
    const taken = new Set<string>();
    for (const r of unknown) {
      if (!sizes.has(r.file.size)) continue;
      const match = formerSelf(r, candidates, taken);
      if (match) {
        taken.add(match.id);
        r.state = match;
        r.change = ImportChange.Moved;
        r.from = match.relativePath;
      }
    }
    return taken;
  }

  /** The user fields of every row about to be rewritten, so a resync never loses an edit; hashes by (size, mtime). */
  private async loadUserFields(toRead: FileToRead[]): Promise<void> {
    const ids = toRead.filter((r) => r.state).map((r) => r.state!.id);
    const snapshots = new Map((await this.adapters.snapshotsByIds(ids)).map((s) => [s.id, s]));
    for (const r of toRead) {
      if (!r.state) continue;
      r.existing = snapshots.get(r.state.id);
      if (sameFile(r.state, r.file) && !r.hashes && r.existing) r.hashes = cachedHashes(r.existing);
    }
  }

  /**
   * 4. Headers, sidecars and hashes of what is left to read (the files a first import found that no thread took
   * yet, or everything new or changed), in worker threads when there are many; rows are written as they come.
   */
  private async read(toRead: FileToRead[]): Promise<void> {
    const left = this.streaming ? (this.pool ? [] : this.streamed) : toRead;
    this.total = (this.streaming ? this.streamed.length : 0) + toRead.length;
    if (!this.pool && left.length >= POOL_MIN_FILES) this.pool = this.openPool();
    if (this.pool) {
      this.pool.submit(left.map((r) => this.taskOf(r)));
      await this.pool.finish();
      return;
    }
    const { syncIo, now } = this.settings;
    await mapLimit(left, READ_CONCURRENCY, async (r) => {
      this.throwIfCancelled();
      await this.take(r, await inspectToRow(this.taskOf(r), now, syncIo));
      // With synchronous reads nothing else would run: give timers (progress output) a turn now and then.
      if (syncIo && this.processed % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
    });
  }

  private openPool(): InspectPool | null {
    const pool = this.settings.workers > 0 ? InspectPool.open({ size: this.settings.workers }) : null;
    if (!pool) return null;
    this.logger.log(`Reading files in ${pool.size} worker threads`);
    pool.start(
      this.settings.now,
      async (outcomes, chunk) => {
        for (const [i, outcome] of outcomes.entries()) {
          await this.take(this.readingOf.get(chunk[i])!, digestOutcome(outcome));
        }
      },
      this.hooks.signal,
    );
    return pool;
  }

  private taskOf(r: FileToRead): InspectTask {
    // Only the names that can be this file's sidecars and previews: a folder of 10,000 LoRAs holds ~22,000 names,
    // and every chunk of tasks is copied to a worker thread.
    const file = { ...r.file, dirListing: companionsOf(indexDirListing(r.file.dirListing), stemOf(r.file.name)) };
    // Whatever the policy, a changed file whose row had a computed hash is hashed again: that hash is stale now.
    const hash =
      this.settings.policy === HashPolicy.Full ||
      (r.state !== undefined && r.state.sha256Verified && !sameFile(r.state, r.file));
    const task: InspectTask = { file, root: r.root, existing: r.existing, hashes: r.hashes, hash };
    this.readingOf.set(task, r);
    return task;
  }

  /** One file read: counted by what happened to it, its row queued for the next batch. */
  private async take(r: FileToRead, outcome: InspectOutcome): Promise<void> {
    this.processed++;
    if (outcome.hashed) this.counts.hashed++;
    for (const f of outcome.failures) this.listFailure(f.path, f.reason);
    if (!outcome.row) {
      this.counts.failed++;
      this.progressIfDue();
      return;
    }
    // The row is written even when no fact changed: it records the file's new mtime and sidecar stats.
    if (r.change === ImportChange.Updated && !factsChanged(r.existing, outcome.row)) this.counts.unchanged++;
    else {
      this.counts[COUNT_OF[r.change]]++;
      this.listChange(r.file.relPath, r.change, r.from);
    }
    this.batch.push(outcome.row);
    if (this.batch.length >= BATCH_ROWS) await this.writeBatch();
    else this.progressIfDue();
  }

  /** 5. The rows read so far, one transaction a batch, one batch at a time. */
  private writeBatch(): Promise<void> {
    const rows = this.batch;
    this.batch = [];
    this.writing = this.writing.then(async () => {
      if (!this.settings.dryRun && rows.length > 0) await this.adapters.writeBatch(rows);
      this.progress(this.readingPhase());
    });
    return this.writing;
  }

  /** 6. Tombstones last: a run that dies before here never marks a file missing by mistake. */
  private async tombstone(vanished: AdapterFileState[], moved: ReadonlySet<string>): Promise<void> {
    this.progress(ImportPhase.Finishing);
    const missing = vanished.filter((row) => !row.missing && !moved.has(row.id));
    this.counts.missing = missing.length;
    for (const row of missing.slice(0, MAX_LISTED - this.changes.length))
      this.listChange(row.relativePath, ImportChange.Missing);
    if (!this.settings.dryRun && missing.length > 0) {
      await this.adapters.writeBatch([], { ids: missing.map((r) => r.id), at: this.settings.now });
    }
  }

  /** 7. The report. */
  private finish(): ImportReport {
    return {
      counts: this.counts,
      failures: this.failures,
      failureCount: this.failureCount,
      changes: this.changes,
      dryRun: this.settings.dryRun,
      durationMs: Date.now() - this.started,
      workerThreads: this.pool?.size ?? 0,
    };
  }

  private listFailure(path: string, reason: string): void {
    this.failureCount++;
    if (this.failures.length < MAX_LISTED) this.failures.push({ path, reason });
  }

  private listChange(path: string, change: ImportChange, from?: string): void {
    if (this.changes.length < MAX_LISTED) this.changes.push(from ? { path, change, from } : { path, change });
  }

  private throwIfCancelled(): void {
    if (this.hooks.signal?.aborted) throw new Error('import cancelled');
  }

  private readingPhase(): ImportPhase {
    return this.total === null ? ImportPhase.Scanning : ImportPhase.Reading;
  }

  private progress(phase: ImportPhase, currentPath?: string): void {
    this.progressAt = Date.now();
    this.hooks.onProgress?.({
      phase,
      counts: { ...this.counts },
      processed: this.processed,
      total: this.total,
      currentPath,
    });
  }

  /** Long loops report on time too: a batch of slow files, or a scan with synchronous calls, leaves no other turn. */
  private progressIfDue(): void {
    if (Date.now() - this.progressAt >= PROGRESS_EVERY_MS) this.progress(this.readingPhase());
  }
}

/** The file has the size and mtime its row recorded: its content is taken as unchanged. */
function sameFile(state: AdapterFileState, file: ScannedFile): boolean {
  return state.fileSize === file.size && state.fileMtimeMs === file.mtimeMs;
}

/**
 * Sidecars and the preview are part of a file's state: a new, removed or edited sidecar, or a preview added,
 * removed or replaced by a better-named one, makes the file "changed". A preview's bytes are served from disk
 * on each request, so an edit in place needs no re-read.
 */
async function companionsUnchanged(row: AdapterFileState, file: ScannedFile, syncIo: boolean): Promise<boolean> {
  const stem = stemOf(file.name);
  if ((findPreview(file.dirListing, stem)?.fileName ?? null) !== row.previewFile) return false;
  const refs = findSidecars(file.dirListing, stem);
  const known = row.sidecars ?? [];
  if (refs.length !== known.length) return false;
  const dir = dirname(file.absPath);
  for (const ref of refs) {
    const prev = known.find((k) => k.fileName === ref.fileName);
    if (!prev) return false;
    try {
      const s = syncIo ? statSync(join(dir, ref.fileName)) : await stat(join(dir, ref.fileName));
      if (s.size !== prev.size || s.mtimeMs !== prev.mtimeMs) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** The vanished row a new file of the same size was, if the evidence says so. */
function formerSelf(
  r: FileToRead,
  candidates: AdapterFileState[],
  taken: ReadonlySet<string>,
): AdapterFileState | undefined {
  const sameSize = candidates.filter((c) => c.fileSize === r.file.size && !taken.has(c.id));
  // A computed hash first; a sidecar's claim that equals the new file's computed hash is evidence too.
  const sha = r.hashes?.sha256;
  const match = sha
    ? (sameSize.find((c) => c.sha256Verified && c.sha256 === sha) ?? sameSize.find((c) => c.sha256 === sha))
    : undefined;
  if (match) return match;
  // Rows whose file was never hashed (lazy policy; a claim may be wrong): a rename keeps size and mtime, so
  // accept an unambiguous match of both.
  const unhashed = sameSize.filter((c) => !c.sha256Verified && c.fileMtimeMs === r.file.mtimeMs);
  return unhashed.length === 1 ? unhashed[0] : undefined;
}

/**
 * A re-read row states something new: its facts differ, or a hash it had is now another (a hash computed for
 * the first time, or equal to the claim it replaces, changes nothing).
 */
function factsChanged(existing: AdapterSnapshot | undefined, row: AdapterEntity): boolean {
  return (
    !existing ||
    existing.factsDigest !== row.factsDigest ||
    (existing.sha256 !== null && existing.sha256 !== row.sha256)
  );
}

/** The row's hashes, when they were computed from the file (a sidecar's claim is never reused as the file's). */
function cachedHashes(row: AdapterSnapshot): FileHashes | undefined {
  if (!row.sha256Verified || !row.sha256 || !row.autoV2 || !row.autoV1) return undefined;
  return {
    size: row.fileSize,
    sha256: row.sha256,
    autoV2: row.autoV2,
    autoV1: row.autoV1,
    autoV3: row.autoV3 ?? undefined,
  };
}
