import type { ComposableAdapter } from './composable-adapter.js';
import { Dialect } from './dialect.js';

/**
 * Which name a LoRA token must carry so the server finds the right file (SDNEXT.md §6.2, §6.3).
 *
 * SD.Next keys: the file stem with `.` → `_` (`entry.name`), the path relative to `--lora-dir` without
 * extension (`entry.fullname`), and the natural stem. Never `ss_output_name`. Case-sensitive.
 * A1111 keys: the file stem (dots kept, no subfolder) and the alias (`ss_output_name`, else the stem).
 *
 * Library roots: SD.Next and A1111 read one LoRA directory, and we cannot know how our roots map onto it.
 * We assume each root is (a copy of) the server's LoRA directory, so `relativePath` is the server's
 * relative path, and we check collisions across all roots at once: stems are folder-blind on both servers,
 * so a stem shared by files in two roots collides whenever both are visible to the server, and two roots
 * holding the same relative path collide even on the path form. This is conservative: it may warn about a
 * collision the server never sees, but it never reports a name as safe when it might load another file.
 */
export interface LoraFile {
  /** Relative to the server's LoRA directory, posix separators. */
  relativePath: string;
  ssOutputName?: string | null;
}

/** How a resolved name refers to its file. */
export enum NameForm {
  Stem = 'stem',
  RelativePath = 'relative_path',
  Alias = 'alias',
}

export interface ResolvedName {
  /** The name to write in the token; a best effort when `ambiguous` or not `usable`. */
  name: string;
  form: NameForm;
  /** Another file answers to the same name, so the server may load either. */
  ambiguous: boolean;
  /** False when no legal name exists (e.g. `:` in the stem): such a token would be misparsed, so emit none. */
  usable: boolean;
  warnings: string[];
}

/** Python's `os.path.splitext` on the last path segment: leading dots never start an extension. */
export function splitExtension(path: string): { stem: string; ext: string } {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  if (dot > slash) {
    for (let i = slash + 1; i < dot; i++) {
      if (path[i] !== '.') return { stem: path.slice(0, dot), ext: path.slice(dot) };
    }
  }
  return { stem: path, ext: '' };
}

/** The file name without directory and extension, as both servers compute it. */
export function fileStem(relativePath: string): string {
  const path = normalizeRelativePath(relativePath);
  const { stem } = splitExtension(path);
  return stem.slice(stem.lastIndexOf('/') + 1);
}

/** The relative path without extension: SD.Next's `fullname`. */
export function relativePathWithoutExtension(relativePath: string): string {
  return splitExtension(normalizeRelativePath(relativePath)).stem;
}

/** SD.Next's `entry.name`: the stem with every `.` replaced by `_`. */
export function sdNextStemName(relativePath: string): string {
  return fileStem(relativePath).replaceAll('.', '_');
}

/** The `name` field that `GET /sdapi/v1/loras` reports for the file (SD.Next mangles dots, A1111 does not). */
export function serverListName(dialect: Dialect, file: LoraFile): string {
  return dialect === Dialect.SdNext ? sdNextStemName(file.relativePath) : fileStem(file.relativePath);
}

/**
 * Every name under which the server finds this file when it is the only one claiming that name.
 * Exact and case-sensitive, so a fake server can resolve tokens with it.
 */
export function namesAcceptedBy(dialect: Dialect, file: LoraFile): Set<string> {
  switch (dialect) {
    case Dialect.SdNext:
      return new Set([
        sdNextStemName(file.relativePath),
        relativePathWithoutExtension(file.relativePath),
        fileStem(file.relativePath),
      ]);
    case Dialect.A1111:
      return new Set([fileStem(file.relativePath), a1111Alias(file)]);
  }
}

/**
 * Why a name cannot stand in `<lora:NAME:…>`, or null when it can. Both servers split the tag's arguments on
 * `:`, end the tag at the first `>`, and read an item with exactly one `=` as a named argument (§6.1).
 */
export function tokenNameProblem(name: string): string | null {
  if (name.length === 0) return 'the name is empty';
  if (name.includes(':')) return `${JSON.stringify(name)} contains ':', which separates token arguments`;
  if (name.includes('>')) return `${JSON.stringify(name)} contains '>', which ends the token`;
  if (name.split('=').length === 2) {
    return `${JSON.stringify(name)} contains '=', so the server reads it as a named argument`;
  }
  return null;
}

/**
 * The server's name lookup over a set of files (SDNEXT.md §6.2, §6.3), for the resolver and for a fake server.
 * `lookup(name)` returns the files the server may load for `<lora:name>`: one = resolved, none = not found,
 * several = the server picks one of them depending on scan order.
 *
 * SD.Next assigns the dot-mangled stem and the relative path (the last file scanned wins) and adds the natural
 * stem with `setdefault` (the first wins, and only when nothing was assigned).
 * A1111 assigns stems and aliases into one dict and, when an alias repeats, looks that name up by stem only;
 * a stem therefore always wins, and an alias works only when no stem equals it, no other file has it, and no
 * other name equals it ignoring case (the repeat check is case-insensitive and depends on scan order).
 */
export class LoraNameTable<F extends LoraFile> {
  private readonly primary = new Map<string, F[]>();
  private readonly fallback = new Map<string, F[]>();
  private readonly folded = new Map<string, F[]>();

  constructor(
    readonly dialect: Dialect,
    files: Iterable<F>,
  ) {
    for (const file of files) {
      const stem = fileStem(file.relativePath);
      if (dialect === Dialect.SdNext) {
        const assigned = new Set([sdNextStemName(file.relativePath), relativePathWithoutExtension(file.relativePath)]);
        for (const key of assigned) push(this.primary, key, file);
        if (!assigned.has(stem)) push(this.fallback, stem, file);
      } else {
        push(this.primary, stem, file);
        const alias = a1111Alias(file);
        if (alias !== stem) push(this.fallback, alias, file);
        for (const key of new Set([stem.toLowerCase(), alias.toLowerCase()])) push(this.folded, key, file);
      }
    }
  }

  lookup(name: string): F[] {
    const primary = this.primary.get(name);
    if (primary) return [...primary];
    const fallback = this.fallback.get(name) ?? [];
    if (this.dialect === Dialect.SdNext || fallback.length !== 1) {
      // A1111: a repeated alias is forbidden and looked up as a stem, which does not exist: not found.
      return this.dialect === Dialect.SdNext ? [...fallback] : [];
    }
    const folded = name.toLowerCase();
    if (A1111_RESERVED.has(folded) || (this.folded.get(folded) ?? []).length > 1) return [];
    return [...fallback];
  }
}

/**
 * Picks the token name of each adapter. `scope` must hold every adapter that could collide with the ones
 * resolved: the whole library, or the composed set plus every adapter sharing a stem with them.
 * `ids` limits which adapters are resolved (all of `scope` by default). Tombstoned files are not on disk,
 * so they collide with nothing; a tombstoned adapter still gets a name no present file answers to.
 *
 * SD.Next: the dot-mangled stem when it reaches only this file, else the relative path without extension.
 * A1111: the stem when it reaches only this file, else the `ss_output_name` alias when that reaches only
 * this file; A1111 has no subfolder form, so anything else stays ambiguous.
 * Files with the same sha256 count as one: whichever the server loads, the result is the same.
 */
export function resolveTokenNames(
  scope: readonly ComposableAdapter[],
  dialect: Dialect,
  ids?: Iterable<string>,
): Map<string, ResolvedName> {
  const wanted = ids === undefined ? null : new Set(ids);
  const targets = scope.filter((a) => wanted === null || wanted.has(a.id));
  const table = new LoraNameTable(
    dialect,
    scope.filter((a) => !isTombstoned(a)),
  );
  const result = new Map<string, ResolvedName>();
  for (const adapter of targets) {
    if (!result.has(adapter.id)) result.set(adapter.id, resolveOne(adapter, dialect, table));
  }
  return result;
}

function resolveOne(
  adapter: ComposableAdapter,
  dialect: Dialect,
  table: LoraNameTable<ComposableAdapter>,
): ResolvedName {
  const stem = fileStem(adapter.relativePath);
  const candidates: [string, NameForm][] =
    dialect === Dialect.SdNext
      ? [
          [sdNextStemName(adapter.relativePath), NameForm.Stem],
          [relativePathWithoutExtension(adapter.relativePath), NameForm.RelativePath],
        ]
      : [[stem, NameForm.Stem]];
  if (dialect === Dialect.A1111 && adapter.ssOutputName && adapter.ssOutputName !== stem) {
    candidates.push([adapter.ssOutputName, NameForm.Alias]);
  }
  const legal = candidates.filter(([name]) => tokenNameProblem(name) === null);
  if (legal.length === 0) {
    const [name, form] = candidates[0];
    return { name, form, ambiguous: false, usable: false, warnings: [tokenNameProblem(name) ?? 'no usable name'] };
  }
  let reason: string | null = null;
  for (const [name, form] of legal) {
    const owners = table.lookup(name);
    const others = othersThan(owners, adapter);
    // A tombstoned file is not in the table: its best name is one no present file answers to.
    const reachable = owners.length > 0 || isTombstoned(adapter);
    if (others.length === 0 && reachable) return { name, form, ambiguous: false, usable: true, warnings: [] };
    reason ??= others.length > 0 ? clashReason(name, others) : `the server would not find ${JSON.stringify(name)}`;
  }
  // Best effort: the first legal name, although the server may load another file for it.
  const consequence =
    dialect === Dialect.SdNext ? 'SD.Next may load either' : 'A1111 has no subfolder form, so it may load either';
  const [name, form] = legal[0];
  return { name, form, ambiguous: true, usable: true, warnings: [`${reason}; ${consequence}`] };
}

/** A1111 seeds its forbidden-alias list with these; such an alias is looked up as a stem instead. */
const A1111_RESERVED: ReadonlySet<string> = new Set(['none', 'addams']);

function othersThan(owners: readonly ComposableAdapter[], adapter: ComposableAdapter): ComposableAdapter[] {
  const seen = new Set<string>([identity(adapter)]);
  const others: ComposableAdapter[] = [];
  for (const owner of owners) {
    const id = identity(owner);
    if (seen.has(id)) continue;
    seen.add(id);
    others.push(owner);
  }
  return others;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function identity(adapter: ComposableAdapter): string {
  return adapter.sha256 ? `sha256:${adapter.sha256.toLowerCase()}` : `id:${adapter.id}`;
}

function clashReason(name: string, others: readonly ComposableAdapter[]): string {
  const shown = others.slice(0, 3).map((o) => JSON.stringify(`${o.rootId}:${o.relativePath}`));
  const more = others.length > 3 ? ` and ${others.length - 3} more` : '';
  return `${JSON.stringify(name)} also names ${shown.join(', ')}${more}`;
}

function a1111Alias(file: LoraFile): string {
  // A1111: `metadata.get('ss_output_name', name)`; an empty alias is no key anyone can type.
  return file.ssOutputName ? file.ssOutputName : fileStem(file.relativePath);
}

function normalizeRelativePath(relativePath: string): string {
  return relativePath.replace(/^(\.\/)+/, '');
}

function isTombstoned(adapter: ComposableAdapter): boolean {
  return adapter.missingSince !== undefined && adapter.missingSince !== null;
}
