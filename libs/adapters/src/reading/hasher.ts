// File hashes (LORA-FORMATS §7), all from ONE sequential read of the file:
// - SHA256: SHA-256 of the whole file; AutoV2 = its first 10 hex.
// - tensor (addnet) hash: SHA-256 of every byte after the header, i.e. [8 + N, end); AutoV3 = first 12 hex.
// - AutoV1: SHA-256 of the 64 KiB at offset 1 MiB, first 8 hex (never an identity; kept for matching).
// Every hex value is LOWER-case (the doc says "store one case"; kohya, LoRA-Manager and A1111 write
// lower-case; Civitai's upper-case values are lower-cased by the sidecar readers).

import { createHash, type Hash } from 'node:crypto';
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { DEFAULT_MAX_HEADER_BYTES } from './safetensors-header.js';
import { normaliseHex } from './json-values.js';
import { openRegularFile } from './read-handle.js';

export const MIN_CHUNK_BYTES = 1 << 20;
export const DEFAULT_CHUNK_BYTES = 4 << 20;
const AUTOV1_OFFSET = 0x100000;
const AUTOV1_LENGTH = 0x10000;
/** SHA-256 of empty input: the placeholder some tools write instead of a real tensor hash. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export interface FileHashes {
  size: number;
  /** Full-file SHA-256, 64 lower-case hex. */
  sha256: string;
  /** First 10 hex of `sha256`. */
  autoV2: string;
  /** First 8 hex of SHA-256 over 64 KiB at 1 MiB (that of empty input for files under 1 MiB). */
  autoV1: string;
  /** SHA-256 of the bytes after the safetensors header, 64 hex; absent when the prefix is not a usable header length. */
  tensorSha256?: string;
  /** First 12 hex of `tensorSha256`. */
  autoV3?: string;
  /** N as read from the file's first 8 bytes, when usable. */
  headerLength?: number;
}

export interface HashFileOptions {
  /** Read size, at least 1 MiB (Node's SHA-256 reaches ≈1 GB/s only with ≥1 MiB reads); default 4 MiB. */
  chunkBytes?: number;
  /**
   * N, when the header was already read (`SafetensorsHeader.headerLength`). Otherwise it is taken from
   * the first 8 bytes of the first chunk, and ignored (no tensor hash) when it is out of range.
   */
  headerLength?: number;
  /** Skip the tensor hash (for non-safetensors files, where A1111 uses the full SHA256 instead). */
  tensorHash?: boolean;
  signal?: AbortSignal;
  /** Called after each chunk with the bytes hashed so far. */
  onProgress?: (bytesDone: number, size: number) => void;
  /** Awaited after each chunk (the next read is already under way): a rate cap waits here. */
  pace?: (bytesDone: number) => Promise<void>;
}

export function autoV2(sha256: string): string {
  return sha256.slice(0, 10).toLowerCase();
}

export function autoV3(tensorSha256: string): string {
  return tensorSha256.replace(/^0x/i, '').slice(0, 12).toLowerCase();
}

/**
 * Hash a file in one sequential pass with double-buffered positioned reads (the next chunk is read
 * while the current one is hashed). Never reads a byte twice.
 */
export async function hashFile(path: string, opts: HashFileOptions = {}): Promise<FileHashes> {
  const chunkBytes = Math.max(MIN_CHUNK_BYTES, opts.chunkBytes ?? DEFAULT_CHUNK_BYTES);
  const { fh, stats } = await openRegularFile(path);
  try {
    return await hashHandle(fh, stats, chunkBytes, opts);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

async function hashHandle(
  fh: FileHandle,
  stats: Stats,
  chunkBytes: number,
  opts: HashFileOptions,
): Promise<FileHashes> {
  const { size } = stats;
  const whole = createHash('sha256');
  const autoV1Hash = createHash('sha256');
  let tensor: Hash | undefined;
  let tensorStart = -1;
  if (opts.tensorHash !== false && opts.headerLength !== undefined && 8 + opts.headerLength <= size) {
    tensorStart = 8 + opts.headerLength;
    tensor = createHash('sha256');
  }

  // Small files (most LoRAs are 10–300 MB, but sidecar-sized test files and tiny adapters exist) get
  // buffers of their own size; the second buffer is allocated only when a second read happens.
  const bufBytes = Math.max(1, Math.min(chunkBytes, size));
  const buffers: [Buffer, Buffer | undefined] = [Buffer.allocUnsafe(bufBytes), undefined];
  let which = 0;
  let pos = 0;
  let pending = size > 0 ? fh.read(buffers[0], 0, Math.min(bufBytes, size), 0) : undefined;
  while (pending) {
    const { bytesRead } = await pending;
    if (bytesRead === 0) break;
    const chunk = buffers[which]!.subarray(0, bytesRead);
    const chunkPos = pos;
    pos += bytesRead;
    // Checked while no read is outstanding, so nothing is left pending on the handle when it throws.
    opts.signal?.throwIfAborted();
    // Start the next read before hashing this chunk: I/O in the thread pool overlaps the hashing here.
    which ^= 1;
    if (pos < size) {
      const next = (buffers[which] ??= Buffer.allocUnsafe(bufBytes));
      pending = fh.read(next, 0, Math.min(bufBytes, size - pos), pos);
    } else {
      pending = undefined;
    }

    if (
      chunkPos === 0 &&
      tensor === undefined &&
      opts.tensorHash !== false &&
      opts.headerLength === undefined &&
      bytesRead >= 8
    ) {
      const n = chunk.readBigUInt64LE(0);
      if (n > 2n && n <= BigInt(DEFAULT_MAX_HEADER_BYTES) && 8 + Number(n) <= size) {
        tensorStart = 8 + Number(n);
        tensor = createHash('sha256');
      }
    }
    whole.update(chunk);
    if (tensor) {
      const from = Math.max(0, tensorStart - chunkPos);
      if (from < chunk.length) tensor.update(from === 0 ? chunk : chunk.subarray(from));
    }
    const v1From = Math.max(AUTOV1_OFFSET, chunkPos);
    const v1To = Math.min(AUTOV1_OFFSET + AUTOV1_LENGTH, pos);
    if (v1From < v1To) autoV1Hash.update(chunk.subarray(v1From - chunkPos, v1To - chunkPos));
    opts.onProgress?.(pos, size);
    if (opts.pace) await opts.pace(pos);
  }
  if (pending) await pending.catch(() => undefined);
  if (pos !== size) throw new Error(`File changed while hashing: read ${pos} of ${size} bytes`);

  const sha256 = whole.digest('hex');
  const out: FileHashes = { size, sha256, autoV2: autoV2(sha256), autoV1: autoV1Hash.digest('hex').slice(0, 8) };
  if (tensor) {
    out.tensorSha256 = tensor.digest('hex');
    out.autoV3 = autoV3(out.tensorSha256);
    out.headerLength = tensorStart - 8;
  }
  return out;
}

export enum HeaderHashSource {
  SshsModelHash = 'sshs_model_hash',
  ModelspecHashSha256 = 'modelspec.hash_sha256',
}

export interface HeaderTensorHash {
  tensorSha256: string;
  autoV3: string;
  source: HeaderHashSource;
}

/**
 * The tensor hash a trainer or editor wrote into the header: `sshs_model_hash` (kohya), else
 * `modelspec.hash_sha256` (`0x` stripped). The empty-input placeholder `e3b0c442…` and malformed
 * values are ignored. It can be stale in copied headers: prefer a computed hash.
 */
export function autoV3FromHeader(metadata: Readonly<Record<string, unknown>>): HeaderTensorHash | undefined {
  for (const source of [HeaderHashSource.SshsModelHash, HeaderHashSource.ModelspecHashSha256]) {
    const hex = normaliseHex(metadata[source], [64]);
    if (hex !== undefined && hex !== EMPTY_SHA256) return { tensorSha256: hex, autoV3: autoV3(hex), source };
  }
  return undefined;
}
