// Walks a library root for `.safetensors` files: one `readdir(withFileTypes)` per directory, one stat
// per LoRA (size, mtime, inode), symlinks followed with a loop guard on directories' dev+inode, and
// unreadable directories reported as items instead of thrown.

import type { Dirent, Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { errorMessage } from './error-message.js';

export interface ScanOptions {
  /** picomatch globs relative to the root, posix separators (`**\/.trash`, `old/**`); matched with `dot: true`. */
  ignore?: readonly string[];
  /**
   * Where the scanned folder sits in its library root (posix, '' for the root): ignore globs are relative to the
   * root, so `old/**` skips `<root>/old` whether the scan starts at the root or at a folder inside it.
   */
  base?: string;
  /** Follow symlinked directories and files; default true. */
  followSymlinks?: boolean;
  /** Skip (and report) symlinks that resolve outside the root; default false. */
  confineToRoot?: boolean;
  /** Parallel stats within one directory; default 32. */
  statConcurrency?: number;
  /** File-system functions, replaceable in tests (e.g. to simulate EACCES when running as root). */
  fs?: Partial<ScanFs>;
}

export interface ScanFs {
  readdir(path: string, options: { withFileTypes: true }): Promise<Dirent[]>;
  stat(path: string): Promise<Stats>;
  realpath(path: string): Promise<string>;
}

const nodeFs: ScanFs = {
  readdir: (path, options) => fsp.readdir(path, options),
  stat: (path) => fsp.stat(path),
  realpath: (path) => fsp.realpath(path),
};

export enum ScanErrorCode {
  /** A directory could not be listed (EACCES, EIO, …). */
  UnreadableDir = 'unreadable_dir',
  /** A `.safetensors` entry (or a symlink) could not be stat'ed: dangling link, vanished file. */
  StatFailed = 'stat_failed',
  /** A symlink leads outside the root and `confineToRoot` is on. */
  OutsideRoot = 'outside_root',
  /** The root itself is missing or not a directory. */
  BadRoot = 'bad_root',
}

export interface ScannedFile {
  type: 'file';
  absPath: string;
  /** Relative to the root, posix separators. */
  relPath: string;
  /** The file name, e.g. `my_style_v1.safetensors`. */
  name: string;
  size: number;
  mtimeMs: number;
  dev: number;
  ino: number;
  /** Reached through a symlink (the file itself or a directory on the way). */
  viaSymlink: boolean;
  /**
   * Names of the non-directory entries of the file's directory (sidecars, previews, other LoRAs).
   * Every file of one directory shares the same array, so `indexDirListing` indexes it once.
   */
  dirListing: readonly string[];
}

export interface ScanError {
  type: 'error';
  absPath: string;
  relPath: string;
  code: ScanErrorCode;
  /** The system error code (`EACCES`, `ENOENT`, `ELOOP`, …) when there is one. */
  errno?: string;
  message: string;
}

export type ScanItem = ScannedFile | ScanError;

const EXT = '.safetensors';

/** A relative path with `/` separators, whatever the platform. */
export function toPosix(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

function errCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

/** Runs `fn` over `items` with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

interface DirTask {
  abs: string;
  rel: string;
  viaSymlink: boolean;
  /** `dev:ino` of the directory, once stat'ed. */
  key?: string;
}

/**
 * Yield every `.safetensors` file under `root` (extension case-insensitive), directory by directory
 * in name order, plus an error item for anything that could not be read. Never throws for file-system
 * problems below the root, and never loops: each directory (by dev+inode) is entered once.
 */
export async function* scanRoot(rootPath: string, opts: ScanOptions = {}): AsyncGenerator<ScanItem, void, undefined> {
  const root = resolve(rootPath);
  const { readdir, stat, realpath } = { ...nodeFs, ...opts.fs };
  const follow = opts.followSymlinks ?? true;
  const concurrency = Math.max(1, opts.statConcurrency ?? 32);
  const matcher = opts.ignore && opts.ignore.length > 0 ? picomatch([...opts.ignore], { dot: true }) : undefined;
  const ignored = matcher && opts.base ? (rel: string) => matcher(`${opts.base}/${rel}`) : matcher;

  let rootReal: string;
  let rootStat: Stats;
  try {
    rootReal = await realpath(root);
    rootStat = await stat(rootReal);
    if (!rootStat.isDirectory()) throw Object.assign(new Error(`Not a directory: ${root}`), { code: 'ENOTDIR' });
  } catch (err) {
    yield {
      type: 'error',
      absPath: root,
      relPath: '',
      code: ScanErrorCode.BadRoot,
      errno: errCode(err),
      message: errorMessage(err),
    };
    return;
  }
  const visited = new Set<string>();
  const inside = (real: string): boolean =>
    real === rootReal || real.startsWith(rootReal.endsWith(sep) ? rootReal : rootReal + sep);

  // Directories reached without a symlink are walked before any reached through one, so a directory
  // with both kinds of path is listed under its real path; `visited` (dev+inode, checked on entry)
  // then stops loops and second visits.
  const direct: DirTask[] = [{ abs: root, rel: '', viaSymlink: false, key: `${rootStat.dev}:${rootStat.ino}` }];
  const linked: DirTask[] = [];
  while (direct.length > 0 || linked.length > 0) {
    const dir = direct.length > 0 ? direct.pop()! : linked.pop()!;
    if (dir.key !== undefined) {
      if (visited.has(dir.key)) continue;
      visited.add(dir.key);
    }
    let entries: Dirent[];
    try {
      entries = await readdir(dir.abs, { withFileTypes: true });
    } catch (err) {
      yield {
        type: 'error',
        absPath: dir.abs,
        relPath: dir.rel,
        code: ScanErrorCode.UnreadableDir,
        errno: errCode(err),
        message: errorMessage(err),
      };
      continue;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

    const listing: string[] = [];
    const loras: Array<{ name: string; abs: string; rel: string; link: boolean }> = [];
    const links: Array<{ name: string; abs: string; rel: string }> = [];
    const subdirs: DirTask[] = [];
    for (const e of entries) {
      const abs = join(dir.abs, e.name);
      const rel = dir.rel === '' ? e.name : `${dir.rel}/${e.name}`;
      if (e.isDirectory()) {
        if (!ignored?.(rel)) subdirs.push({ abs, rel, viaSymlink: dir.viaSymlink });
        continue;
      }
      listing.push(e.name);
      if (e.isSymbolicLink()) {
        if (follow && !ignored?.(rel)) links.push({ name: e.name, abs, rel });
      } else if (e.isFile() && e.name.toLowerCase().endsWith(EXT) && !ignored?.(rel)) {
        loras.push({ name: e.name, abs, rel, link: false });
      }
    }

    // Symlinks: stat follows them; directories join the walk (loop-guarded below), files join the LoRAs.
    const linkErrors: ScanError[] = [];
    const resolved = await mapLimit(links, concurrency, async (l) => {
      try {
        const st = await stat(l.abs);
        if (opts.confineToRoot) {
          const real = await realpath(l.abs);
          if (!inside(real)) {
            linkErrors.push({
              type: 'error',
              absPath: l.abs,
              relPath: l.rel,
              code: ScanErrorCode.OutsideRoot,
              message: `Symlink leads outside the root: ${real}`,
            });
            return undefined;
          }
        }
        return { l, st };
      } catch (err) {
        // A dangling link only matters when it claims to be a LoRA.
        if (l.name.toLowerCase().endsWith(EXT) || errCode(err) === 'ELOOP') {
          linkErrors.push({
            type: 'error',
            absPath: l.abs,
            relPath: l.rel,
            code: ScanErrorCode.StatFailed,
            errno: errCode(err),
            message: errorMessage(err),
          });
        }
        return undefined;
      }
    });
    const files: ScannedFile[] = [];
    const fileErrors: ScanError[] = [];
    for (const r of resolved) {
      if (!r) continue;
      if (r.st.isDirectory()) {
        const i = listing.indexOf(r.l.name);
        if (i >= 0) listing.splice(i, 1);
        subdirs.push({ abs: r.l.abs, rel: r.l.rel, viaSymlink: true });
      } else if (r.st.isFile() && r.l.name.toLowerCase().endsWith(EXT)) {
        files.push(fileItem(r.l.abs, r.l.rel, r.l.name, r.st, true, listing));
      }
    }

    const stats = await mapLimit(loras, concurrency, async (f) => {
      try {
        return { f, st: await stat(f.abs) };
      } catch (err) {
        fileErrors.push({
          type: 'error',
          absPath: f.abs,
          relPath: f.rel,
          code: ScanErrorCode.StatFailed,
          errno: errCode(err),
          message: errorMessage(err),
        });
        return undefined;
      }
    });
    for (const s of stats) if (s) files.push(fileItem(s.f.abs, s.f.rel, s.f.name, s.st, dir.viaSymlink, listing));
    files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    yield* files;
    yield* linkErrors;
    yield* fileErrors;

    // Enter each directory once (by dev+inode): this stops symlink loops and double visits.
    const dirStats = await mapLimit(subdirs, concurrency, async (d) => {
      try {
        return { d, st: await stat(d.abs) };
      } catch (err) {
        return { d, err };
      }
    });
    const next: DirTask[] = [];
    for (const r of dirStats) {
      if ('err' in r) {
        yield {
          type: 'error',
          absPath: r.d.abs,
          relPath: r.d.rel,
          code: ScanErrorCode.UnreadableDir,
          errno: errCode(r.err),
          message: errorMessage(r.err),
        };
        continue;
      }
      const key = `${r.st.dev}:${r.st.ino}`;
      if (visited.has(key)) continue;
      next.push({ ...r.d, key });
    }
    next.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
    for (let i = next.length - 1; i >= 0; i--) (next[i].viaSymlink ? linked : direct).push(next[i]);
  }
}

function fileItem(
  abs: string,
  rel: string,
  name: string,
  st: Stats,
  viaSymlink: boolean,
  listing: readonly string[],
): ScannedFile {
  return {
    type: 'file',
    absPath: abs,
    relPath: toPosix(rel),
    name,
    size: st.size,
    mtimeMs: st.mtimeMs,
    dev: st.dev,
    ino: st.ino,
    viaSymlink,
    dirListing: listing,
  };
}

/** Relative posix path of `absPath` under `root` (for callers that build paths themselves). */
export function relPosix(root: string, absPath: string): string {
  return toPosix(relative(root, absPath));
}
