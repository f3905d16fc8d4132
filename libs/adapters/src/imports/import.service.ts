import { readdirSync, realpathSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, type ImportCounts, InvalidInputError, errorMessage } from '@app/core';
import { hashFile, type FileHashes } from '../importer/hasher.js';
import { mapLimit, ScanErrorCode, type ScanFs, type ScannedFile, scanRoot, toPosix } from '../importer/scanner.js';
import { findPreview } from '../importer/previews.js';
import { companionsOf, findSidecars, indexDirListing, stemOf } from '../importer/sidecars.js';
import type { AdapterEntity } from '../library/adapter.entity.js';
import { AdapterQueryRepository } from '../library/adapter-query.repository.js';
import { type AdapterFileState, AdapterRepository, type AdapterSnapshot } from '../library/adapter.repository.js';
import { type LibraryRoot, LibraryRoots } from '../library/library-roots.js';
import { HashPolicy, type ImportFailure } from './import-run.entity.js';
import { InspectPool } from './inspect-pool.js';
import { type InspectOutcome, type InspectTask, inspectToRow } from './inspect-task.js';

export interface ImportOptions {
  /** Library roots or folders inside them; all configured roots when empty. */
  paths?: string[];
  dryRun?: boolean;
  forceResync?: boolean;
  hash?: HashPolicy;
  /** Globs relative to each root that this run skips, on top of `LORA_IGNORE` (picomatch, `dot: true`). */
  ignore?: string[];
  /**
   * Read headers and sidecars with synchronous calls when reading on the main thread: much faster for many
   * small reads, but it blocks the event loop between yields, so only one-shot processes (the CLI) use it; a
   * server keeps async reads. Reads in import worker threads are always synchronous.
   */
  syncIo?: boolean;
  /** Worker threads that read files (default `IMPORT_WORKERS`); 0 reads on the main thread. */
  workers?: number;
}

export enum ImportPhase {
  Scanning = 'scanning',
  Reading = 'reading',
  Finishing = 'finishing',
}

export interface ImportProgress {
  phase: ImportPhase;
  counts: ImportCounts;
  processed: number;
  total: number | null;
  currentPath?: string;
}

export enum ImportChange {
  Added = 'added',
  Updated = 'updated',
  Moved = 'moved',
  Missing = 'missing',
  Restored = 'restored',
}

export interface ImportReport {
  counts: ImportCounts;
  failures: ImportFailure[];
  failureCount: number;
  /** What changed (or would change, in a dry run), capped at `MAX_LISTED`. */
  changes: { path: string; change: ImportChange; from?: string }[];
  dryRun: boolean;
  durationMs: number;
  /** Worker threads that read the files (0: read on the main thread). */
  workerThreads: number;
}

export const emptyCounts = (): ImportCounts => ({
  seen: 0,
  added: 0,
  updated: 0,
  unchanged: 0,
  moved: 0,
  missing: 0,
  restored: 0,
  failed: 0,
  hashed: 0,
});

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

const BATCH_ROWS = 500;
/** Changed rows after which an import refreshes the query planner's statistics (ANALYZE). */
const STATISTICS_AFTER_CHANGES = 1000;
// Header and sidecar reads are small and latency-bound: keep many in flight (with UV_THREADPOOL_SIZE=16, see README).
const READ_CONCURRENCY = 48;
/** Files to read below which worker threads would cost more to start than they save. */
const POOL_MIN_FILES = 500;
const MAX_LISTED = 1000;
/** Progress is reported at least this often while files are found, compared or read (a CLI prints it). */
const PROGRESS_EVERY_MS = 1000;

interface Target {
  root: LibraryRoot;
  /** Absolute folder to scan. */
  dir: string;
  /** Its path relative to the root ('' for the root itself), posix. */
  prefix: string;
}

interface Work {
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

const under = (prefix: string, relPath: string): boolean =>
  prefix === '' || relPath === prefix || relPath.startsWith(`${prefix}/`);

/**
 * Imports library roots with smart resync: an unchanged file (same size and mtime, same sidecars) costs a
 * `stat`; a changed one is re-read; a moved one (same content) keeps its id and user fields; a vanished one
 * becomes a tombstone, restored if it comes back. Rows are written in batched transactions, and tombstones
 * only at the end, so a run killed halfway leaves a consistent index that the next run completes.
 */
@Injectable()
export class ImportService {
  private readonly logger = new Logger(ImportService.name);

  constructor(
    private readonly roots: LibraryRoots,
    private readonly adapters: AdapterRepository,
    private readonly queries: AdapterQueryRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async run(
    options: ImportOptions = {},
    hooks: { onProgress?: (p: ImportProgress) => void; signal?: AbortSignal } = {},
  ): Promise<ImportReport> {
    const started = Date.now();
    const dryRun = options.dryRun ?? false;
    const force = options.forceResync ?? false;
    const policy = options.hash ?? HashPolicy.Lazy;
    const counts = emptyCounts();
    const failures: ImportFailure[] = [];
    let failureCount = 0;
    const changes: ImportReport['changes'] = [];
    const fail = (path: string, reason: string) => {
      failureCount++;
      if (failures.length < MAX_LISTED) failures.push({ path, reason });
    };
    const note = (path: string, change: ImportChange, from?: string) => {
      if (changes.length < MAX_LISTED) changes.push(from ? { path, change, from } : { path, change });
    };
    let progressAt = Date.now();
    const progress = (phase: ImportPhase, processed: number, total: number | null, currentPath?: string) => {
      progressAt = Date.now();
      hooks.onProgress?.({ phase, counts: { ...counts }, processed, total, currentPath });
    };

    const targets = await this.targets(options.paths ?? []);
    const now = new Date();
    const workers = options.workers ?? this.config.importWorkers;
    // A file that an ignore glob hides is not seen, so a row it had becomes a tombstone like any vanished file.
    const ignore = [...this.config.loraIgnore, ...(options.ignore ?? [])];

    // Reading (used from step 1 on when the index is empty, else in step 4): headers, sidecars and hashes
    // of everything new or changed, in worker threads when there are many; complete rows are written in
    // batches as they come, one transaction a batch.
    let total: number | null = null;
    let processed = 0;
    // Long loops report on time too: a batch of slow files, or a scan with synchronous calls, leaves no other turn.
    const progressIfDue = () => {
      if (Date.now() - progressAt >= PROGRESS_EVERY_MS)
        progress(total === null ? ImportPhase.Scanning : ImportPhase.Reading, processed, total);
    };
    let batch: AdapterEntity[] = [];
    let writing: Promise<void> = Promise.resolve();
    const flush = (): Promise<void> => {
      const rows = batch;
      batch = [];
      writing = writing.then(async () => {
        if (!dryRun && rows.length > 0) await this.adapters.writeBatch(rows);
        progress(total === null ? ImportPhase.Scanning : ImportPhase.Reading, processed, total);
      });
      return writing;
    };
    const take = async (w: Work, outcome: InspectOutcome): Promise<void> => {
      processed++;
      if (outcome.hashed) counts.hashed++;
      for (const f of outcome.failures) fail(f.path, f.reason);
      if (!outcome.row) {
        counts.failed++;
        progressIfDue();
        return;
      }
      // The row is written even when no fact changed: it records the file's new mtime and sidecar stats.
      if (w.change === ImportChange.Updated && !factsChanged(w.existing, outcome.row)) counts.unchanged++;
      else {
        counts[COUNT_OF[w.change]]++;
        note(w.file.relPath, w.change, w.from);
      }
      batch.push(outcome.row);
      if (batch.length >= BATCH_ROWS) await flush();
      else progressIfDue();
    };
    const workOf = new Map<InspectTask, Work>();
    const taskOf = (w: Work): InspectTask => {
      // The reader needs only the names that can belong to this file (its sidecars and previews), not the whole
      // folder: a folder of 10,000 LoRAs and their sidecars holds some 22,000 names, and each chunk of tasks sent
      // to a worker thread copied them and indexed them again (the thread worked half as long again as for the
      // same library in 100 folders).
      const file = { ...w.file, dirListing: companionsOf(indexDirListing(w.file.dirListing), stemOf(w.file.name)) };
      // Whatever the policy, a changed file whose row had a computed hash is hashed again: that hash is stale now.
      const hash =
        policy === HashPolicy.Full || (w.state !== undefined && w.state.sha256Verified && !sameFile(w.state, w.file));
      const task: InspectTask = { file, root: w.root, existing: w.existing, hashes: w.hashes, hash };
      workOf.set(task, w);
      return task;
    };
    let pool: InspectPool | null = null;
    const openPool = (): InspectPool | null => {
      const opened = workers > 0 ? InspectPool.open({ size: workers }) : null;
      if (!opened) return null;
      this.logger.log(`Reading files in ${opened.size} worker threads`);
      opened.start(
        now,
        async (outcomes, chunk) => {
          for (const [i, outcome] of outcomes.entries()) await take(workOf.get(chunk[i])!, outcome);
        },
        hooks.signal,
      );
      return opened;
    };
    let vanished: AdapterFileState[];
    let movedIds: Set<string>;

    try {
      // An index that knows no file of these roots (a first import): every file found is new and no move is
      // possible, so files are read while the scan still runs.
      const states = await this.adapters.fileStates([...new Set(targets.map((t) => t.root.id))]);
      const streamed: Work[] = [];
      const stream = states.length === 0;

      // 1. Scan every target; remember folders we could not read so their files are not taken for deleted.
      const scanned: { target: Target; file: ScannedFile }[] = [];
      const blind: { rootId: string; prefix: string }[] = [];
      for (const target of targets) {
        progress(ImportPhase.Scanning, processed, null, target.dir);
        for await (const item of scanRoot(target.dir, {
          ignore,
          base: target.prefix,
          fs: options.syncIo ? SYNC_SCAN_FS : undefined,
        })) {
          if (hooks.signal?.aborted) throw new Error('import cancelled');
          if (item.type === 'error') {
            fail(item.absPath, `${item.code}: ${item.message}`);
            // A LoRA file that could not be stat'ed was found and failed; a folder is not a file.
            if (item.code === ScanErrorCode.StatFailed && item.absPath.toLowerCase().endsWith('.safetensors')) {
              counts.seen++;
              counts.failed++;
            }
            const rel = toPosix(relative(target.root.realPath, item.absPath));
            if (item.code === ScanErrorCode.BadRoot || item.code === ScanErrorCode.UnreadableDir) {
              blind.push({ rootId: target.root.id, prefix: item.code === ScanErrorCode.BadRoot ? target.prefix : rel });
            }
            continue;
          }
          const relPath = target.prefix ? `${target.prefix}/${item.relPath}` : item.relPath;
          const file = { ...item, relPath };
          counts.seen++;
          progressIfDue();
          if (!stream) {
            scanned.push({ target, file });
            continue;
          }
          const w: Work = { file, root: target.root, change: ImportChange.Added };
          streamed.push(w);
          if (pool) pool.submit([taskOf(w)]);
          else if (streamed.length === POOL_MIN_FILES) {
            pool = openPool();
            pool?.submit(streamed.map(taskOf));
          }
        }
      }

      progress(ImportPhase.Scanning, processed, null);

      // 2. Compare with the index: an unchanged file costs its stat (and its sidecars'), nothing more.
      const byKey = new Map(states.map((row) => [`${row.rootId}\0${row.relativePath}`, row]));
      const seenKeys = new Set<string>();
      const work: Work[] = [];
      const fresh: Work[] = [];
      await mapLimit(scanned, 32, async ({ target, file }) => {
        const key = `${target.root.id}\0${file.relPath}`;
        seenKeys.add(key);
        progressIfDue();
        const state = byKey.get(key);
        if (!state) {
          fresh.push({ file, root: target.root, change: ImportChange.Added });
          return;
        }
        // `--hash full` also completes what lazy runs left: an unchanged file whose hash was never computed.
        const unhashed = policy === HashPolicy.Full && !state.sha256Verified;
        if (
          !force &&
          !state.missing &&
          sameFile(state, file) &&
          !unhashed &&
          (await this.companionsUnchanged(state, file, options.syncIo ?? false))
        ) {
          counts.unchanged++;
          return;
        }
        work.push({
          file,
          root: target.root,
          state,
          change: state.missing ? ImportChange.Restored : ImportChange.Updated,
        });
      });

      // Rows whose file is gone: inside what we scanned, and not under a folder we could not read.
      vanished = states.filter(
        (row) =>
          !seenKeys.has(`${row.rootId}\0${row.relativePath}`) &&
          targets.some((t) => t.root.id === row.rootId && under(t.prefix, row.relativePath)) &&
          !blind.some((b) => b.rootId === row.rootId && under(b.prefix, row.relativePath)),
      );

      // 3. Moves: a new path whose content matches a vanished (or tombstoned) row keeps that row's identity.
      await this.matchMoves(fresh, vanished, policy, fail, () => {
        counts.hashed++;
        progressIfDue();
      });
      movedIds = new Set(fresh.filter((w) => w.state && w.change === ImportChange.Moved).map((w) => w.state!.id));
      work.push(...fresh);

      // User fields of every row about to be rewritten, so a resync never loses an edit.
      const snapshots = new Map(
        (await this.adapters.snapshotsByIds(work.filter((w) => w.state).map((w) => w.state!.id))).map((s) => [s.id, s]),
      );
      for (const w of work) {
        if (!w.state) continue;
        w.existing = snapshots.get(w.state.id);
        // Hashes are cached by (size, mtime).
        if (sameFile(w.state, w.file) && !w.hashes && w.existing) w.hashes = cachedHashes(w.existing);
      }

      // 4. Read what is left to read: the files found while scanning an empty index that no thread took yet,
      //    or everything new or changed.
      const toRead = stream && pool ? [] : stream ? streamed : work;
      total = (stream ? streamed.length : 0) + work.length;
      if (!pool && toRead.length >= POOL_MIN_FILES) pool = openPool();
      if (pool) {
        pool.submit(toRead.map(taskOf));
        await pool.finish();
      } else {
        const syncIo = options.syncIo ?? false;
        await mapLimit(toRead, READ_CONCURRENCY, async (w) => {
          if (hooks.signal?.aborted) throw new Error('import cancelled');
          await take(w, await inspectToRow(taskOf(w), now, syncIo));
          // With synchronous reads nothing else would run: give timers (progress output) a turn now and then.
          if (syncIo && processed % 200 === 0) await new Promise((r) => setImmediate(r));
        });
      }
      await flush();
    } finally {
      await pool?.close();
    }

    // 5. Tombstones last: a run that dies before here never marks a file missing by mistake.
    progress(ImportPhase.Finishing, processed, total);
    const missing = vanished.filter((row) => !row.missing && !movedIds.has(row.id));
    counts.missing = missing.length;
    for (const row of missing.slice(0, MAX_LISTED - changes.length)) note(row.relativePath, ImportChange.Missing);
    if (!dryRun && missing.length > 0) await this.adapters.writeBatch([], { ids: missing.map((r) => r.id), at: now });

    // After a big change the planner's statistics are stale; refresh them so searches keep their fast plans.
    const changed = counts.added + counts.updated + counts.moved + counts.missing + counts.restored;
    if (!dryRun && changed >= STATISTICS_AFTER_CHANGES) {
      await this.queries.refreshStatistics().catch((error: unknown) => {
        this.logger.warn(`Could not refresh planner statistics: ${errorMessage(error)}`);
      });
    }

    const report: ImportReport = {
      counts,
      failures,
      failureCount,
      changes,
      dryRun,
      durationMs: Date.now() - started,
      workerThreads: pool?.size ?? 0,
    };
    this.logger.log(
      `Import ${dryRun ? '(dry run) ' : ''}done in ${report.durationMs} ms: ${Object.entries(counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
    return report;
  }

  /**
   * Registers (or re-reads) one file given by path, which must resolve inside a library root. A file that
   * cannot be read as a LoRA is a 400 with the reason; nothing is written then.
   */
  async registerFile(
    path: string,
    policy: HashPolicy = HashPolicy.Full,
  ): Promise<{ adapter: AdapterEntity; created: boolean }> {
    const resolved = await this.roots.resolveInside(path, 'path');
    if (!resolved.relativePath.toLowerCase().endsWith('.safetensors')) {
      throw InvalidInputError.field('path', 'must be a .safetensors file', 'not_a_lora_file');
    }
    const st = await stat(resolved.absPath);
    if (!st.isFile()) throw InvalidInputError.field('path', 'must be a file', 'not_a_lora_file');
    const dir = dirname(resolved.absPath);
    const listing = (await readdir(dir, { withFileTypes: true })).filter((e) => !e.isDirectory()).map((e) => e.name);
    const file: ScannedFile = {
      type: 'file',
      absPath: resolved.absPath,
      relPath: resolved.relativePath,
      name: resolved.absPath.slice(dir.length + 1),
      size: st.size,
      mtimeMs: st.mtimeMs,
      dev: st.dev,
      ino: st.ino,
      viaSymlink: false,
      dirListing: listing,
    };
    const state = await this.adapters.fileStateAt(resolved.root.id, resolved.relativePath);
    const existing = state ? (await this.adapters.snapshotsByIds([state.id]))[0] : undefined;
    const { row, failures } = await inspectToRow(
      { file, root: resolved.root, existing, hash: policy === HashPolicy.Full },
      new Date(),
      false,
    );
    if (!row) {
      const reasons = failures.map((f) => f.reason).join('; ');
      throw InvalidInputError.field('path', `cannot be read as a LoRA: ${reasons}`, 'unreadable_lora');
    }
    await this.adapters.writeBatch([row]);
    return { adapter: row, created: !state };
  }

  private async targets(paths: string[]): Promise<Target[]> {
    const roots = this.roots.list();
    if (paths.length === 0) return roots.map((root) => ({ root, dir: root.realPath, prefix: '' }));
    const out: Target[] = [];
    for (const [i, p] of paths.entries()) {
      const resolved = await this.roots.resolveInside(p, `paths[${i}]`);
      out.push({ root: resolved.root, dir: resolved.absPath, prefix: resolved.relativePath });
    }
    return out;
  }

  /**
   * Sidecars and the preview are part of a file's state: a new, removed or edited sidecar, or a preview added,
   * removed or replaced by a better-named one, makes the file "changed". A preview's bytes are served from disk
   * on each request, so an edit in place needs no re-read.
   */
  private async companionsUnchanged(row: AdapterFileState, file: ScannedFile, syncIo: boolean): Promise<boolean> {
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

  private async matchMoves(
    fresh: Work[],
    vanished: AdapterFileState[],
    policy: HashPolicy,
    fail: (path: string, reason: string) => void,
    onHashed: () => void,
  ): Promise<void> {
    const candidates = vanished.filter((r) => r.fileSize > 0);
    const sizes = new Set(candidates.map((r) => r.fileSize));
    // Lazy hashing hashes a new file only when a vanished file of the same size could be its old self.
    const toHash = fresh.filter((w) => policy === HashPolicy.Full || sizes.has(w.file.size));
    await mapLimit(toHash, 4, async (w) => {
      try {
        w.hashes = await hashFile(w.file.absPath);
        onHashed();
      } catch (error) {
        fail(w.file.absPath, `hash: ${errorMessage(error)}`);
      }
    });
    const taken = new Set<string>();
    for (const w of fresh) {
      if (!sizes.has(w.file.size)) continue;
      const sameSize = candidates.filter((r) => r.fileSize === w.file.size && !taken.has(r.id));
      // A computed hash first; a sidecar's claim that equals the new file's computed hash is evidence too.
      const sha = w.hashes?.sha256;
      let match = sha
        ? (sameSize.find((r) => r.sha256Verified && r.sha256 === sha) ?? sameSize.find((r) => r.sha256 === sha))
        : undefined;
      if (!match) {
        // Rows whose file was never hashed (lazy policy; a claim may be wrong): a rename keeps size and mtime,
        // so accept an unambiguous match of both.
        const unhashed = sameSize.filter((r) => !r.sha256Verified && r.fileMtimeMs === w.file.mtimeMs);
        if (unhashed.length === 1) match = unhashed[0];
      }
      if (match) {
        taken.add(match.id);
        w.state = match;
        w.change = ImportChange.Moved;
        w.from = match.relativePath;
      }
    }
  }
}

/** The file has the size and mtime its row recorded: its content is taken as unchanged. */
function sameFile(state: AdapterFileState, file: ScannedFile): boolean {
  return state.fileSize === file.size && state.fileMtimeMs === file.mtimeMs;
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
