import { createHash } from 'node:crypto';
import { existsSync, realpathSync, type Stats } from 'node:fs';
import { type FileHandle, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, InvalidInputError } from '@app/core';
import { openRegularFile } from '../reading/read-handle.js';
import { toPosix } from '../reading/scanner.js';

export interface LibraryRoot {
  /** Stable id derived from the root's real path: survives reordering `LORA_ROOTS`. */
  id: string;
  /** The configured path, resolved. */
  path: string;
  /** The real path (symlinks resolved); every file must resolve inside it. */
  realPath: string;
}

export interface ResolvedLibraryPath {
  root: LibraryRoot;
  /** Relative to the root, posix separators. */
  relativePath: string;
  absPath: string;
}

export const rootIdOf = (realPath: string): string => createHash('sha256').update(realPath).digest('hex').slice(0, 12);

/** A regular file inside a root, opened once: read it through `fh` (and close it), never by its path again. */
export interface OpenedLibraryFile {
  fh: FileHandle;
  stats: Stats;
  /** Its real path, inside the root, when it was checked. */
  realPath: string;
}

/** The file-system calls `openInsideRoot` makes, replaceable in tests (to swap a folder at a chosen moment). */
export interface OpenInsideFs {
  open(path: string): Promise<{ fh: FileHandle; stats: Stats }>;
  realpath(path: string): Promise<string>;
  stat(path: string): Promise<Stats>;
}

const nodeOpenInsideFs: OpenInsideFs = { open: openRegularFile, realpath, stat };

/**
 * Opens `relativePath` under `rootRealPath` and then checks the opened file, not the path: its real path must lie
 * inside the root and name the same file (device and inode) as the handle. A folder swapped for a symlink before
 * or after the open cannot make it serve a file outside the root. Null for anything else (missing, outside, not
 * a regular file).
 */
export async function openInsideRoot(
  rootRealPath: string,
  relativePath: string,
  fs: OpenInsideFs = nodeOpenInsideFs,
): Promise<OpenedLibraryFile | null> {
  const candidate = resolve(rootRealPath, relativePath);
  if (!isInside(rootRealPath, candidate)) return null;
  let opened: { fh: FileHandle; stats: Stats };
  try {
    opened = await fs.open(candidate);
  } catch {
    return null;
  }
  try {
    const real = await fs.realpath(candidate);
    const named = await fs.stat(real);
    if (isInside(rootRealPath, real) && named.dev === opened.stats.dev && named.ino === opened.stats.ino) {
      return { ...opened, realPath: real };
    }
  } catch {
    // vanished or swapped meanwhile
  }
  await opened.fh.close().catch(() => undefined);
  return null;
}

function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** The configured library roots; the only gate through which paths from users reach the file system. */
@Injectable()
export class LibraryRoots {
  private readonly roots: LibraryRoot[];
  private pattern: RegExp | null | undefined;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.roots = config.loraRoots.map((path) => {
      const realPath = existsSync(path) ? realpathSync(path) : path;
      return { id: rootIdOf(realPath), path, realPath };
    });
  }

  /**
   * The text with every library root's absolute path (configured or real) replaced by paths relative to it: a file
   * inside a root reads `characters/fox.safetensors`, the root itself `.`. What roles below admin are shown.
   */
  relativeToRoots(text: string): string {
    return this.rootPattern
      ? text.replace(this.rootPattern, (_m, slash: string | undefined) => (slash ? '' : '.'))
      : text;
  }

  private get rootPattern(): RegExp | null {
    if (this.pattern !== undefined) return this.pattern;
    // Longest first, so a root nested in another is cut whole; a root is matched only up to a path boundary.
    const paths = [...new Set(this.roots.flatMap((r) => [r.path, r.realPath]))].sort((a, b) => b.length - a.length);
    const escaped = paths.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.pattern = paths.length === 0 ? null : new RegExp(`(?:${escaped.join('|')})(?:(/)|(?![^\\s'"\`),;:\\]]))`, 'g');
    return this.pattern;
  }

  list(): LibraryRoot[] {
    return [...this.roots];
  }

  byId(id: string): LibraryRoot | undefined {
    return this.roots.find((r) => r.id === id);
  }

  /**
   * Resolves a user-given path (absolute, or relative to a root) to a file inside a root. `..` tricks and
   * symlinks that lead outside every root are refused with a 400.
   */
  async resolveInside(input: string, field = 'path'): Promise<ResolvedLibraryPath> {
    if (this.roots.length === 0)
      throw InvalidInputError.field(field, 'no library roots are configured (LORA_ROOTS)', 'no_library_roots');
    if (input.includes('\0')) throw InvalidInputError.field(field, 'must not contain NUL bytes', 'path_outside_roots');
    const candidates = isAbsolute(input) ? [resolve(input)] : this.roots.map((r) => resolve(r.realPath, input));
    for (const candidate of candidates) {
      const root = this.roots.find((r) => isInside(r.realPath, candidate) || isInside(r.path, candidate));
      if (!root) continue;
      let real: string;
      try {
        real = await realpath(candidate);
      } catch {
        continue;
      }
      if (!isInside(root.realPath, real)) continue;
      return { root, relativePath: toPosix(relative(root.realPath, real)), absPath: real };
    }
    throw InvalidInputError.field(
      field,
      'must be an existing file inside a configured library root',
      'path_outside_roots',
    );
  }

  /** A stored (root id, relative path) opened for reading, checked on the handle (see `openInsideRoot`). */
  async openInside(rootId: string, relativePath: string): Promise<OpenedLibraryFile | null> {
    const root = this.byId(rootId);
    return root ? openInsideRoot(root.realPath, relativePath) : null;
  }

  /** The absolute path of a stored (root id, relative path), checked to stay inside the root; null when it does not. */
  async absolutePathOf(rootId: string, relativePath: string): Promise<string | null> {
    const root = this.byId(rootId);
    if (!root) return null;
    const candidate = resolve(root.realPath, relativePath);
    if (!isInside(root.realPath, candidate)) return null;
    try {
      const real = await realpath(candidate);
      return isInside(root.realPath, real) ? real : null;
    } catch {
      return null;
    }
  }
}
