// Sidecar discovery (by the naming rules of LORA-FORMATS §4) and reading (one file → SidecarFacts).

import { basename } from 'node:path';
import { errorMessage } from './error-message.js';
import {
  SidecarError,
  SidecarErrorReason,
  SidecarKind,
  emptyFacts,
  type SidecarContext,
  type SidecarFacts,
} from './facts.js';
import { isRecord } from './json-values.js';
import { NotARegularFileError, openForRead } from './read-handle.js';
import { looksLikeA1111Json, readA1111Json } from './sidecar-a1111.js';
import { readCivitaiInfo } from './sidecar-civitai-info.js';
import { readCmInfo } from './sidecar-cm-info.js';
import { readLoraManagerMetadata } from './sidecar-lora-manager.js';
import { looksLikeSdnextJson, readSdnextJson } from './sidecar-sdnext.js';
import { readSwarmJson } from './sidecar-swarm.js';

/** A sidecar as found on disk. `json` is the plain `<stem>.json`, A1111 or SD.Next flavour (known only once read). */
export type SidecarFileKind = Exclude<SidecarKind, SidecarKind.A1111Json | SidecarKind.SdnextJson> | 'json';

export interface SidecarRef {
  kind: SidecarFileKind;
  fileName: string;
}

/** Suffixes after the stem, longest first so `.metadata.json` is never taken for a plain `.json`. */
const SUFFIXES: ReadonlyArray<[string, SidecarFileKind]> = [
  ['.metadata.json', SidecarKind.LoraManagerMetadata],
  ['.cm-info.json', SidecarKind.CmInfo],
  ['.swarm.json', SidecarKind.SwarmJson],
  ['.civitai.info', SidecarKind.CivitaiInfo],
  ['.description.txt', SidecarKind.DescriptionText],
  ['.json', 'json'],
  ['.txt', SidecarKind.DescriptionText],
];

/**
 * A directory listing prepared for many lookups: every name under the one or two stems it can follow (the
 * name without its last one or two extensions: `a.preview.png` under `a.preview` and `a`), lower-cased, in
 * listing order. Sidecar and preview suffixes span at most two dots, so finding one LoRA's companions is one
 * map lookup, not dozens of probes of the whole listing.
 */
export interface DirIndex {
  byStem: ReadonlyMap<string, readonly string[]>;
}

const indexCache = new WeakMap<readonly string[], DirIndex>();
const NO_NAMES: readonly string[] = [];

/**
 * Index a directory's file names once. The scanner hands every file of a directory the same array,
 * so the index is cached per array and a directory of 10,000 LoRAs is indexed once, not 10,000 times.
 */
export function indexDirListing(listing: readonly string[] | DirIndex): DirIndex {
  if (!Array.isArray(listing)) return listing as DirIndex;
  const arr = listing as readonly string[];
  let idx = indexCache.get(arr);
  if (!idx) {
    const byStem = new Map<string, string[]>();
    for (const name of arr) {
      const lower = name.toLowerCase();
      let dot = lower.lastIndexOf('.');
      for (let dots = 0; dots < 2 && dot > 0; dots++) {
        const stem = lower.slice(0, dot);
        const names = byStem.get(stem);
        if (names) names.push(name);
        else byStem.set(stem, [name]);
        dot = lower.lastIndexOf('.', dot - 1);
      }
    }
    idx = { byStem };
    indexCache.set(arr, idx);
  }
  return idx;
}

/** `my.lora.v2.safetensors` → `my.lora.v2` (only the last extension goes). */
export function stemOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  return dot > 0 ? fileName.slice(0, dot) : fileName;
}

/** The indexed names that may belong to `stem` (companions of it, any case). */
export function companionsOf(index: DirIndex, stem: string): readonly string[] {
  return index.byStem.get(stem.toLowerCase()) ?? NO_NAMES;
}

/**
 * A stem's companions by what follows the stem, lower-cased (`.civitai.info`, `.preview.png`): the name in
 * exactly that case when there is one, else the first in listing order (LoRA-Manager looks names up the same way).
 */
export function companionsBySuffix(listing: readonly string[] | DirIndex, stem: string): ReadonlyMap<string, string> {
  const companions = companionsOf(indexDirListing(listing), stem);
  const out = new Map<string, string>();
  if (companions.length === 0) return out;
  const lowerStem = stem.toLowerCase();
  const exact = new Set<string>();
  for (const name of companions) {
    // Every companion's lower-cased name starts with the lower-cased stem (it is the index key).
    const suffix = name.toLowerCase().slice(lowerStem.length);
    if (exact.has(suffix)) continue;
    if (name.length === stem.length + suffix.length && name.startsWith(stem) && name.endsWith(suffix)) {
      exact.add(suffix);
      out.set(suffix, name);
    } else if (!out.has(suffix)) {
      out.set(suffix, name);
    }
  }
  return out;
}

/**
 * Which sidecars exist for the LoRA with this stem, given its directory's file names. One entry per
 * kind at most; `<stem>.description.txt` is preferred over `<stem>.txt`.
 */
export function findSidecars(listing: readonly string[] | DirIndex, stem: string): SidecarRef[] {
  const companions = companionsBySuffix(listing, stem);
  const out: SidecarRef[] = [];
  if (companions.size === 0) return out;
  const seen = new Set<SidecarFileKind>();
  for (const [suffix, kind] of SUFFIXES) {
    if (seen.has(kind)) continue;
    const found = companions.get(suffix);
    if (found !== undefined) {
      out.push({ kind, fileName: found });
      seen.add(kind);
    }
  }
  return out;
}

export interface ReadSidecarOptions {
  /** Read with synchronous calls (one-shot imports; see `read-handle.ts`). */
  syncIo?: boolean;
  /** Refuse larger files; default 32 MiB (an SD.Next model JSON with many versions is a few MB). */
  maxBytes?: number;
}

export const DEFAULT_MAX_SIDECAR_BYTES = 32 * 1024 * 1024;

function tooLarge(message: string, kind: SidecarKind | undefined, path: string): SidecarError {
  return new SidecarError(SidecarErrorReason.TooLarge, message, kind, path);
}

/** Route parsed JSON (or text for descriptions) to the reader of `kind`; `json` is sniffed. Pure. */
export function parseSidecar(kind: SidecarFileKind | SidecarKind, content: unknown, ctx: SidecarContext): SidecarFacts {
  switch (kind) {
    case SidecarKind.CivitaiInfo:
      return readCivitaiInfo(content, ctx);
    case SidecarKind.A1111Json:
      return readA1111Json(content, ctx);
    case SidecarKind.SdnextJson:
      return readSdnextJson(content, ctx);
    case SidecarKind.LoraManagerMetadata:
      return readLoraManagerMetadata(content, ctx);
    case SidecarKind.CmInfo:
      return readCmInfo(content, ctx);
    case SidecarKind.SwarmJson:
      return readSwarmJson(content, ctx);
    case SidecarKind.DescriptionText:
      return readDescriptionText(content);
    case 'json':
      if (!isRecord(content))
        throw new SidecarError(SidecarErrorReason.NotAnObject, 'A .json sidecar holds a JSON object');
      if (looksLikeSdnextJson(content)) return readSdnextJson(content, ctx);
      if (looksLikeA1111Json(content)) return readA1111Json(content, ctx);
      throw new SidecarError(
        SidecarErrorReason.UnrecognisedShape,
        'A .json sidecar that is neither A1111 user metadata nor a Civitai model',
      );
  }
}

export function readDescriptionText(content: unknown): SidecarFacts {
  const facts = emptyFacts(SidecarKind.DescriptionText);
  if (typeof content === 'string' && content.trim() !== '') facts.description = content.trim();
  return facts;
}

/**
 * Read one sidecar file: stat + read through one handle, size cap, BOM-tolerant JSON parse, then the
 * reader of `kind`. Throws `SidecarError` (with `kind` and `path`) for every failure.
 */
export async function readSidecar(
  path: string,
  kind: SidecarFileKind | SidecarKind,
  ctx: SidecarContext,
  opts: ReadSidecarOptions = {},
): Promise<SidecarFacts> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_SIDECAR_BYTES;
  const errKind = kind === 'json' ? undefined : kind;
  let text: string;
  let size: number;
  let mtimeMs: number;
  try {
    const fh = await openForRead(path, opts.syncIo);
    try {
      size = fh.stats.size;
      mtimeMs = fh.stats.mtimeMs;
      if (size > maxBytes) throw tooLarge(`Sidecar has ${size} bytes (cap ${maxBytes})`, errKind, path);
      const bytes = await fh.readUpTo(maxBytes);
      if (bytes.length > maxBytes) throw tooLarge(`Sidecar grew past the cap of ${maxBytes} bytes`, errKind, path);
      text = bytes.toString('utf8');
    } finally {
      await fh.close().catch(() => undefined);
    }
  } catch (err) {
    if (err instanceof SidecarError) throw err;
    if (err instanceof NotARegularFileError) {
      throw new SidecarError(
        SidecarErrorReason.NotAFile,
        `Sidecar is not a regular file (${err.fileType})`,
        errKind,
        path,
      );
    }
    throw new SidecarError(SidecarErrorReason.Io, `Cannot read sidecar: ${errorMessage(err)}`, errKind, path, {
      cause: err,
    });
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let content: unknown = text;
  if (kind !== SidecarKind.DescriptionText) {
    if (text.trim() === '') throw new SidecarError(SidecarErrorReason.EmptyFile, 'Sidecar is empty', errKind, path);
    try {
      content = JSON.parse(text);
    } catch (err) {
      throw new SidecarError(
        SidecarErrorReason.InvalidJson,
        `Sidecar is not valid JSON: ${errorMessage(err)}`,
        errKind,
        path,
        {
          cause: err,
        },
      );
    }
  }
  let facts: SidecarFacts;
  try {
    facts = parseSidecar(kind, content, ctx);
  } catch (err) {
    if (err instanceof SidecarError && err.path === undefined) {
      throw new SidecarError(err.reason, err.message, err.kind ?? errKind, path, { cause: err.cause });
    }
    throw err;
  }
  facts.file = { path, fileName: basename(path), size, mtimeMs };
  return facts;
}
