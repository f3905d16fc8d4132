// The whole per-file pipeline in one call, for the import service: header → hashes (one pass) →
// sidecars → preview → merged facts. Failures of single sources become errors/warnings, not throws.

import { readdir } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { SidecarError, type SidecarFacts, SidecarKind } from './facts.js';
import { autoV3FromHeader, hashFile, type FileHashes } from './hasher.js';
import { mergeFacts, type AdapterFacts } from './merge.js';
import { findPreview } from './previews.js';
import {
  SafetensorsHeaderError,
  readSafetensorsHeader,
  type SafetensorsHeader,
  type SafetensorsHeaderOptions,
} from './safetensors-header.js';
import { findSidecars, parseSidecar, readSidecar, stemOf, type ReadSidecarOptions } from './sidecars.js';

export interface InspectTarget {
  absPath: string;
  /** Names in the file's directory (from `scanRoot`); read from disk when absent. */
  dirListing?: readonly string[];
}

export interface InspectOptions {
  /** Compute SHA256/AutoV2/AutoV3 (reads the whole file once); default true. */
  hash?: boolean;
  /** Hash even when the header is invalid (a truncated file still has a SHA256); default false. */
  hashInvalid?: boolean;
  header?: SafetensorsHeaderOptions;
  sidecar?: ReadSidecarOptions;
  /** Hashes already known (e.g. cached by size+mtime+inode): skips hashing. */
  knownHashes?: FileHashes;
  /** Civitai's answer to a lookup (stored on the adapter): merged like a `.civitai.info` after the files' own. */
  remoteCivitai?: unknown;
}

export interface InspectResult {
  facts: AdapterFacts;
  header?: SafetensorsHeader;
  headerError?: SafetensorsHeaderError;
  hashes?: FileHashes;
  sidecars: SidecarFacts[];
  sidecarErrors: SidecarError[];
}

export async function inspectAdapterFile(target: InspectTarget, opts: InspectOptions = {}): Promise<InspectResult> {
  const fileName = target.absPath.split(/[\\/]/).pop() ?? target.absPath;
  const dir = dirname(target.absPath);
  let header: SafetensorsHeader | undefined;
  let headerError: SafetensorsHeaderError | undefined;
  try {
    header = await readSafetensorsHeader(target.absPath, opts.header);
  } catch (err) {
    if (!(err instanceof SafetensorsHeaderError)) throw err;
    headerError = err;
  }
  let hashes = opts.knownHashes;
  if (!hashes && opts.hash !== false && (header || opts.hashInvalid)) {
    hashes = await hashFile(target.absPath, { headerLength: header?.headerLength, tensorHash: header !== undefined });
  }

  const listing = target.dirListing ?? (await listDir(dir));
  const stem = stemOf(fileName);
  const ctx = {
    fileName,
    sha256: hashes?.sha256,
    // Unhashed (lazy policy): the header's own tensor hash (`sshs_model_hash`, `modelspec.hash_sha256`) still lets
    // a sidecar's version be matched by AutoV3 before falling back to the file name or size (LORA-FORMATS §5).
    tensorSha256: hashes?.tensorSha256 ?? (header ? autoV3FromHeader(header.metadata)?.tensorSha256 : undefined),
    size: header?.fileSize ?? hashes?.size,
    autoV1: hashes?.autoV1,
  };
  const sidecars: SidecarFacts[] = [];
  const sidecarErrors: SidecarError[] = [];
  for (const ref of findSidecars(listing, stem)) {
    try {
      sidecars.push(await readSidecar(join(dir, ref.fileName), ref.kind, ctx, opts.sidecar));
    } catch (err) {
      if (!(err instanceof SidecarError)) throw err;
      sidecarErrors.push(err);
    }
  }
  if (opts.remoteCivitai !== undefined) {
    try {
      sidecars.push(parseSidecar(SidecarKind.CivitaiInfo, opts.remoteCivitai, ctx));
    } catch (err) {
      if (!(err instanceof SidecarError)) throw err;
      sidecarErrors.push(err);
    }
  }
  const found = findPreview(listing, stem);
  const facts = mergeFacts(header, sidecars, hashes, {
    fileName,
    preview: found ? { path: join(dir, found.fileName), contentType: found.contentType } : undefined,
  });
  if (headerError) facts.warnings.unshift(`header: ${headerError.reason}: ${headerError.message}`);
  for (const e of sidecarErrors) facts.warnings.push(`sidecar ${e.path ?? ''}: ${e.reason}: ${e.message}`);
  return { facts, header, headerError, hashes, sidecars, sidecarErrors };
}

async function listDir(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries.filter((e) => !e.isDirectory()).map((e) => e.name);
}
