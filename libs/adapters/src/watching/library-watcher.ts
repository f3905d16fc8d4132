import { lstat, opendir, readdir, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import { type FSWatcher, watch } from 'chokidar';
import picomatch from 'picomatch';
import type { Stats } from 'node:fs';
import { errorMessage } from '../reading/error-message.js';
import { mapLimit, toPosix } from '../reading/scanner.js';
import type { LibraryRoot } from '../library/library-roots.js';
import { foldersToImport, nearestExisting } from './touched-folders.js';

export interface LibraryWatcherOptions {
  roots: LibraryRoot[];
  /** Poll folders at this interval instead of waiting for events; null = events (inotify and the like). */
  pollMs: number | null;
  /** Quiet time after the last change before touched folders are imported. */
  debounceMs: number;
  /** How long a changed file must keep its size and mtime before it counts as written. */
  settleMs: number;
  /** `LORA_IGNORE`: changes under these globs (relative to each root) import nothing. */
  ignore: readonly string[];
  /** Imports these folders (absolute, inside the roots); resolves once that import is over. */
  importFolders: (folders: string[]) => Promise<void>;
  /** Whether the index holds files of the root that are not tombstones. */
  hasLiveFiles: (rootId: string) => Promise<boolean>;
  logger: Pick<LoggerService, 'log' | 'warn'>;
}

/** Why a root cannot be imported now: gone (a NAS offline), or empty while the index says it holds files (unmounted). */
type RootAbsence = 'missing' | 'empty' | null;

/** Touched folders wait at most this long for every write in the library to settle; then the settled ones go. */
const MAX_WAIT_MS = 60_000;
/** How often each root is checked for going away and coming back. */
const ROOT_CHECK_MS = 2_000;

const isInside = (parent: string, child: string): boolean => {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
};

/** The path a native raw event is about: the watched folder joined with the child's name it reports. */
function rawEventPath(name: string, details: unknown): string {
  const watched =
    typeof details === 'object' && details !== null && 'watchedPath' in details ? details.watchedPath : undefined;
  if (typeof watched !== 'string') return name;
  return name ? join(watched, name) : watched;
}

const isDirectory = (path: string): Promise<boolean> =>
  stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );

/**
 * Watches every library root and turns file-system changes into imports of the folders they touched. Chokidar
 * watches folders only (one watch per folder, not per file: a library of 100,000 files stays far below the
 * inotify limit); the changed names come from the folders' raw events, or in polling mode from comparing listings.
 * A changed file waits until its size and mtime hold for `settleMs` (a copy in progress is not imported); touched
 * folders are imported together once nothing changed for `debounceMs`, one import at a time. A root that is gone,
 * or empty while the index holds its files, is never imported: its files are not turned into tombstones.
 */
export class LibraryWatcher {
  private watcher?: FSWatcher;
  /** Files written lately, waiting for their size and mtime to hold. */
  private readonly pending = new Map<string, { size: number; mtimeMs: number; since: number }>();
  /** Folders to import, with when each was first touched. */
  private readonly touched = new Map<string, number>();
  /** Polling mode: each folder's names, to tell what a change of the folder added or removed. */
  private readonly listings = new Map<string, Set<string>>();
  private readonly offline = new Set<string>();
  private readonly ignored: ((relPath: string) => boolean) | null;
  private lastChangeAt = 0;
  private importing: Promise<void> | null = null;
  private checking = false;
  private ready = false;
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly options: LibraryWatcherOptions) {
    this.ignored = options.ignore.length > 0 ? picomatch([...options.ignore], { dot: true }) : null;
  }

  /** Starts watching; resolves once the initial walk of the present roots is done. */
  async start(): Promise<void> {
    const { pollMs } = this.options;
    const present: string[] = [];
    for (const root of this.options.roots) {
      if ((await this.absence(root)) === null) present.push(root.realPath);
      else this.goneOffline(root, 'missing');
    }
    this.watcher = watch(present, {
      ignoreInitial: pollMs === null,
      usePolling: pollMs !== null,
      interval: pollMs ?? undefined,
      binaryInterval: pollMs ?? undefined,
      // Chokidar follows a symlink loop (`a/up -> ..`) without end; a link's creation is still seen in its folder.
      followSymlinks: false,
      ignorePermissionErrors: true,
      // Folders only; files are seen through their folder's events. Ignored folders are not even walked.
      ignored: (path: string, stats?: Stats) =>
        stats?.isFile() === true || stats?.isSymbolicLink() === true || this.isIgnored(path),
    });
    this.watcher.on('raw', (_event, path, details) => {
      if (pollMs !== null) void this.folderChanged(path);
      else this.changed(rawEventPath(path, details));
    });
    this.watcher.on('addDir', (path: string) => {
      if (pollMs !== null) void this.list(path);
      if (this.ready) this.changed(path);
    });
    this.watcher.on('unlinkDir', (path: string) => this.changed(path));
    this.watcher.on('error', (error: unknown) => {
      this.options.logger.warn(`Watcher: ${errorMessage(error)}`);
    });
    await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
    this.ready = true;
    const tickMs = Math.max(
      25,
      Math.min(250, Math.floor(this.options.settleMs / 4), Math.floor(this.options.debounceMs / 2)),
    );
    this.timers = [
      setInterval(() => void this.tick(), tickMs),
      setInterval(() => void this.checkRoots(), ROOT_CHECK_MS),
    ];
    for (const t of this.timers) t.unref();
  }

  /** Stops watching; an import already started is waited for. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.watcher?.close();
    await this.importing;
  }

  /** Files waiting to settle and folders waiting to be imported (for tests and logs). */
  get backlog(): { pending: number; folders: number } {
    return { pending: this.pending.size, folders: this.touched.size };
  }

  private rootOf(path: string): LibraryRoot | undefined {
    return this.options.roots
      .filter((r) => isInside(r.realPath, path))
      .sort((a, b) => b.realPath.length - a.realPath.length)[0];
  }

  /** Under an ignore glob: the path or one of its folders matches (the importer never enters an ignored folder). */
  private isIgnored(path: string): boolean {
    if (!this.ignored) return false;
    const root = this.rootOf(path);
    if (!root) return false;
    const segments = toPosix(relative(root.realPath, path)).split('/');
    for (let i = 1; i <= segments.length; i++)
      if (segments[0] !== '' && this.ignored(segments.slice(0, i).join('/'))) return true;
    return false;
  }

  /** Something at `path` was created, written, renamed or removed. */
  private changed(path: string): void {
    const root = this.rootOf(path);
    if (!root || this.isIgnored(path)) return;
    this.lastChangeAt = Date.now();
    void lstat(path).then(
      (s) => {
        if (s.isDirectory()) this.touch(path);
        // A link is imported through its folder, which the importer scans following links.
        else if (s.isSymbolicLink()) this.touch(dirname(path));
        else this.pending.set(path, { size: s.size, mtimeMs: s.mtimeMs, since: Date.now() });
      },
      // Gone: its folder lost a file (or a folder).
      () => this.touch(dirname(path)),
    );
  }

  private touch(folder: string): void {
    if (!this.rootOf(folder) || this.isIgnored(folder)) return;
    if (!this.touched.has(folder)) this.touched.set(folder, Date.now());
  }

  /** Polling mode: a folder's listing changed; new names are changes, removed ones touch the folder. */
  private async folderChanged(folder: string): Promise<void> {
    const before = this.listings.get(folder);
    const now = await this.list(folder);
    if (!now) {
      this.changed(folder);
      return;
    }
    for (const name of now) if (!before?.has(name)) this.changed(join(folder, name));
    if (before && [...before].some((name) => !now.has(name))) {
      this.lastChangeAt = Date.now();
      this.touch(folder);
    }
  }

  private async list(folder: string): Promise<Set<string> | null> {
    try {
      const names = new Set(await readdir(folder));
      this.listings.set(folder, names);
      return names;
    } catch {
      this.listings.delete(folder);
      return null;
    }
  }

  private async tick(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      await this.settle();
      this.importIfDue();
    } finally {
      this.checking = false;
    }
  }

  /** Pending files whose size and mtime held for `settleMs` are written: their folder is touched. */
  private async settle(): Promise<void> {
    const now = Date.now();
    await mapLimit([...this.pending], 32, async ([path, seen]) => {
      let s: Stats;
      try {
        s = await stat(path);
      } catch {
        this.pending.delete(path);
        this.touch(dirname(path));
        return;
      }
      if (s.size !== seen.size || s.mtimeMs !== seen.mtimeMs) {
        this.pending.set(path, { size: s.size, mtimeMs: s.mtimeMs, since: now });
        this.lastChangeAt = now;
      } else if (now - seen.since >= this.options.settleMs) {
        this.pending.delete(path);
        this.touch(dirname(path));
      }
    });
  }

  /**
   * Imports the touched folders once the library is quiet and every write has settled (a burst becomes one import);
   * folders that waited longer than `MAX_WAIT_MS` go without waiting for writes elsewhere.
   */
  private importIfDue(): void {
    if (this.importing || this.touched.size === 0) return;
    const now = Date.now();
    const quiet = now - this.lastChangeAt >= this.options.debounceMs && this.pending.size === 0;
    const oldest = Math.min(...this.touched.values());
    if (!quiet && now - oldest < MAX_WAIT_MS) return;
    const writing = [...this.pending.keys()];
    const due = [...this.touched.keys()].filter((folder) => !writing.some((file) => isInside(folder, file)));
    if (due.length === 0) return;
    for (const folder of due) this.touched.delete(folder);
    this.importing = this.importBatch(due).finally(() => {
      this.importing = null;
    });
  }

  private async importBatch(folders: string[]): Promise<void> {
    const paths: string[] = [];
    for (const root of this.options.roots) {
      const mine = folders.filter((f) => this.rootOf(f) === root);
      if (mine.length === 0) continue;
      const absence = await this.absence(root);
      if (absence) {
        this.goneOffline(root, absence);
        continue;
      }
      const existing = await Promise.all(mine.map((f) => nearestExisting(root.realPath, f, isDirectory)));
      paths.push(...foldersToImport(root.realPath, existing));
    }
    if (paths.length === 0) return;
    try {
      await this.options.importFolders(paths);
    } catch (error) {
      this.options.logger.warn(`Watcher: import of ${paths.length} folder(s) failed: ${errorMessage(error)}`);
    }
  }

  private async absence(root: LibraryRoot): Promise<RootAbsence> {
    if (!(await isDirectory(root.realPath))) return 'missing';
    try {
      const dir = await opendir(root.realPath);
      const first = await dir.read();
      await dir.close();
      if (first) return null;
    } catch {
      return 'missing';
    }
    return (await this.options.hasLiveFiles(root.id)) ? 'empty' : null;
  }

  private goneOffline(root: LibraryRoot, absence: Exclude<RootAbsence, null>): void {
    if (this.offline.has(root.id)) return;
    this.offline.add(root.id);
    this.options.logger.warn(
      `Library root ${root.path} is ${absence === 'missing' ? 'missing' : 'empty while the index holds its files (not mounted?)'}: ` +
        'its files are left as they are; watching resumes when it is back',
    );
  }

  /** A root that went away is noted; one that came back is watched again and imported whole (it may have changed). */
  private async checkRoots(): Promise<void> {
    for (const root of this.options.roots) {
      const absence = await this.absence(root).catch(() => null);
      if (absence) {
        this.goneOffline(root, absence);
        continue;
      }
      if (!this.offline.delete(root.id)) continue;
      this.options.logger.log(`Library root ${root.path} is back: watching it again`);
      this.watcher?.unwatch(root.realPath);
      this.watcher?.add(root.realPath);
      this.lastChangeAt = Date.now();
      this.touch(root.realPath);
    }
  }
}
