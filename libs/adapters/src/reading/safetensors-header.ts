// Reads the header of a `.safetensors` file (LORA-FORMATS §1): the 8-byte length N, then exactly N
// bytes of JSON. The tensor data is never read; every check of §1.1 is enforced.

import { NotARegularFileError, openForRead, type ReadHandle } from './read-handle.js';
import { errorMessage } from './error-message.js';
import { imageTypeOf } from './image-type.js';
import { detectLoraKind, type LoraKindInfo, type TensorShapeInfo } from './lora-kind.js';
import { isRecord } from './json-values.js';

/** Reference reader's `MAX_HEADER_SIZE` (huggingface/safetensors `tensor.rs`). */
export const DEFAULT_MAX_HEADER_BYTES = 100_000_000;
/** SD.Next drops or collapses some values longer than this (`modules/sd_checkpoint.py`). */
export const DEFAULT_LARGE_VALUE_CHARS = 2048;
/** Our own guard against one multi-megabyte value ending up in a database row. */
export const DEFAULT_MAX_VALUE_CHARS = 1_048_576;
/** SwarmUI ignores embedded images longer than this many characters (`T2IModelHandler.cs`). */
export const MAX_EMBEDDED_IMAGE_CHARS = 8 * 1024 * 1024;

export enum SafetensorsHeaderErrorReason {
  /** Fewer than 8 bytes (reference `HeaderTooSmall`); includes zero-byte files. */
  FileTooSmall = 'file_too_small',
  /** N above the cap (reference `HeaderTooLarge`). */
  HeaderTooLarge = 'header_too_large',
  /** N ≤ 2: no room for a JSON object with content (A1111, SD.Next). */
  HeaderTooSmall = 'header_too_small',
  /** 8 + N is past the end of the file (reference `InvalidHeaderLength`). */
  HeaderTruncated = 'header_truncated',
  /** The header does not start with `{`. */
  HeaderNotObject = 'header_not_object',
  InvalidUtf8 = 'invalid_utf8',
  InvalidJson = 'invalid_json',
  /** A tensor entry without a usable `dtype`/`shape`/`data_offsets`. */
  InvalidTensorInfo = 'invalid_tensor_info',
  /** 8 + N + max(END) > file size: the download is truncated (reference `MetadataIncompleteBuffer`). */
  DataTruncated = 'data_truncated',
  /** 8 + N + max(END) < file size: bytes after the last tensor (reference `MetadataIncompleteBuffer`). */
  TrailingBytes = 'trailing_bytes',
  NotAFile = 'not_a_file',
  Io = 'io_error',
}

export class SafetensorsHeaderError extends Error {
  override readonly name = 'SafetensorsHeaderError';

  constructor(
    readonly reason: SafetensorsHeaderErrorReason,
    message: string,
    readonly path?: string,
    readonly details?: Readonly<Record<string, unknown>>,
    options?: { cause?: unknown },
  ) {
    super(path ? `${message} (${path})` : message, options);
  }
}

export interface EmbeddedImageRef {
  /** Header key: `modelspec.thumbnail`, `modelspec.preview_image` or `ssmd_cover_images`. */
  key: string;
  contentType: string;
  /** Length of the encoded text (data URL or base64). */
  chars: number;
  /** Longer than SwarmUI's 8 MiB cap: do not use. */
  oversized: boolean;
  /** Within the size cap, base64, and its first bytes really are an image of a type `imageTypeOf` knows. */
  usable: boolean;
}

export interface EmbeddedPreview {
  key: string;
  contentType: string;
  bytes: Buffer;
}

export interface TagCount {
  tag: string;
  count: number;
}

export interface SafetensorsHeaderOptions {
  /** Read with synchronous calls (one-shot imports; see `read-handle.ts`). */
  syncIo?: boolean;
  /** Cap on N; default 100,000,000 (reference reader). */
  maxHeaderBytes?: number;
  /** SD.Next's "large" threshold; default 2048 characters. */
  largeValueChars?: number;
  /** Values longer than this are dropped with a warning; default 1 MiB. */
  maxValueChars?: number;
  /** How many trigger-word suggestions to keep from `ss_tag_frequency`; default 100. */
  maxTagSuggestions?: number;
  /**
   * Decode an embedded preview image (≤ 8 MiB of text) into `embeddedPreview`: the first usable one
   * (`firstUsableEmbedded`), or the one under this header key if it is usable. Only bytes that really are an image
   * (`imageTypeOf`) are returned, typed as what they are.
   */
  decodeEmbeddedPreview?: boolean | string;
}

export interface SafetensorsHeader {
  path?: string;
  fileSize: number;
  /** N, the header length in bytes. */
  headerLength: number;
  /** 8 + N: where the tensor data starts; the AutoV3 (addnet) hash covers [dataOffset, fileSize). */
  dataOffset: number;
  /** max(END) over all tensors: the length of the tensor data. */
  dataLength: number;
  /** `__metadata__`, every value a string, sanitised as SD.Next does (see `sanitiseMetadata`). */
  metadata: Record<string, string>;
  /** Metadata keys dropped or rewritten by sanitising, with why. */
  sanitised: Array<{ key: string; action: 'dropped' | 'replaced' | 'collapsed' | 'stringified'; why: string }>;
  tensorNames: string[];
  tensorCount: number;
  /** Distinct tensor dtypes, e.g. `["F16"]`. */
  dtypes: string[];
  loraKind: LoraKindInfo;
  /** Inner tags of `ss_tag_frequency` summed over all folders, most frequent first (suggestions only). */
  tagFrequency: TagCount[];
  embeddedImages: EmbeddedImageRef[];
  embeddedPreview?: EmbeddedPreview;
  /** Non-fatal oddities (tensor sizes that do not add up, stringified values, …). */
  warnings: string[];
}

const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  F8_E8M0: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};

const EMBEDDED_KEYS = ['modelspec.thumbnail', 'modelspec.preview_image', 'ssmd_cover_images'] as const;

function fail(
  reason: SafetensorsHeaderErrorReason,
  message: string,
  path?: string,
  details?: Record<string, unknown>,
): never {
  throw new SafetensorsHeaderError(reason, message, path, details);
}

/** Bytes read at once from the start of a file: a typical kohya header is 5–30 KB. */
const FIRST_READ_BYTES = 64 * 1024;

async function readExactly(fh: ReadHandle, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? buf : buf.subarray(0, done);
}

/**
 * Read and validate the header of a safetensors file through one file handle: the first 64 KiB (the 8-byte
 * N and, usually, the header), then the rest of the N bytes when the header is longer. Reads at most 64 KiB
 * of tensor data, and never more than 8 + N bytes otherwise.
 */
export async function readSafetensorsHeader(
  path: string,
  opts: SafetensorsHeaderOptions = {},
): Promise<SafetensorsHeader> {
  let fh: ReadHandle;
  try {
    fh = await openForRead(path, opts.syncIo);
  } catch (err) {
    throw ioError(err, path);
  }
  try {
    return await readSafetensorsHeaderFrom(fh, path, opts);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** `readSafetensorsHeader` over a file the caller opened (and closes). */
export async function readSafetensorsHeaderFrom(
  fh: ReadHandle,
  path: string,
  opts: SafetensorsHeaderOptions = {},
): Promise<SafetensorsHeader> {
  const maxHeaderBytes = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  const size = fh.stats.size;
  let headerBytes: Buffer;
  try {
    // One read covers the prefix and, for most LoRAs, the whole header; a longer header gets a second read.
    const first = await readExactly(fh, Math.min(size, FIRST_READ_BYTES), 0);
    const n = checkPrefix(first, size, maxHeaderBytes, path);
    headerBytes = first.length >= 8 + n ? first.subarray(8, 8 + n) : await readExactly(fh, n, 8);
    if (headerBytes.length !== n) {
      fail(SafetensorsHeaderErrorReason.HeaderTruncated, 'File ended inside the header', path, {
        expected: n,
        read: headerBytes.length,
      });
    }
  } catch (err) {
    if (err instanceof SafetensorsHeaderError) throw err;
    throw ioError(err, path);
  }
  return parseSafetensorsHeader(headerBytes, size, opts, path);
}

function ioError(err: unknown, path: string): SafetensorsHeaderError {
  if (err instanceof NotARegularFileError) {
    return new SafetensorsHeaderError(
      SafetensorsHeaderErrorReason.NotAFile,
      `Not a regular file (${err.fileType})`,
      path,
    );
  }
  const code = isRecord(err) && typeof err['code'] === 'string' ? err['code'] : undefined;
  const reason = code === 'EISDIR' ? SafetensorsHeaderErrorReason.NotAFile : SafetensorsHeaderErrorReason.Io;
  return new SafetensorsHeaderError(reason, `Cannot read file: ${errorMessage(err)}`, path, { code }, { cause: err });
}

/**
 * Check the 8-byte prefix against the file size (§1.1) and return N. Exported for the hasher,
 * which reads the prefix from its first chunk.
 */
export function checkPrefix(
  prefix: Buffer,
  fileSize: number,
  maxHeaderBytes = DEFAULT_MAX_HEADER_BYTES,
  path?: string,
): number {
  if (prefix.length < 8 || fileSize < 8) {
    fail(
      SafetensorsHeaderErrorReason.FileTooSmall,
      `File has ${fileSize} bytes; a safetensors file has at least 8`,
      path,
      { size: fileSize },
    );
  }
  const n64 = prefix.readBigUInt64LE(0);
  if (n64 > BigInt(maxHeaderBytes)) {
    fail(
      SafetensorsHeaderErrorReason.HeaderTooLarge,
      `Header length ${n64} exceeds the cap of ${maxHeaderBytes} bytes`,
      path,
      {
        headerLength: n64.toString(),
        max: maxHeaderBytes,
      },
    );
  }
  const n = Number(n64);
  if (n <= 2)
    fail(SafetensorsHeaderErrorReason.HeaderTooSmall, `Header length ${n} is too small`, path, { headerLength: n });
  if (8 + n > fileSize) {
    fail(
      SafetensorsHeaderErrorReason.HeaderTruncated,
      `Header of ${n} bytes does not fit in a ${fileSize}-byte file`,
      path,
      {
        headerLength: n,
        size: fileSize,
      },
    );
  }
  return n;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Validate and interpret N header bytes (everything after the 8-byte prefix). Pure; no I/O. */
export function parseSafetensorsHeader(
  headerBytes: Buffer,
  fileSize: number,
  opts: SafetensorsHeaderOptions = {},
  path?: string,
): SafetensorsHeader {
  const n = headerBytes.length;
  if (n <= 2)
    fail(SafetensorsHeaderErrorReason.HeaderTooSmall, `Header length ${n} is too small`, path, { headerLength: n });
  if (headerBytes[0] !== 0x7b) {
    fail(SafetensorsHeaderErrorReason.HeaderNotObject, 'Header does not start with "{"', path, {
      firstByte: headerBytes[0],
    });
  }
  let text: string;
  try {
    text = utf8.decode(headerBytes);
  } catch (err) {
    throw new SafetensorsHeaderError(
      SafetensorsHeaderErrorReason.InvalidUtf8,
      'Header is not valid UTF-8',
      path,
      undefined,
      { cause: err },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SafetensorsHeaderError(
      SafetensorsHeaderErrorReason.InvalidJson,
      `Header is not valid JSON: ${errorMessage(err)}`,
      path,
      undefined,
      {
        cause: err,
      },
    );
  }
  if (!isRecord(parsed)) fail(SafetensorsHeaderErrorReason.HeaderNotObject, 'Header JSON is not an object', path);

  const warnings: string[] = [];
  const tensors: TensorShapeInfo[] = [];
  const ranges: Array<[number, number, string]> = [];
  const dtypes = new Set<string>();
  let maxEnd = 0;
  let rawMetadata: Record<string, unknown> = {};

  for (const [name, info] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      if (isRecord(info)) rawMetadata = info;
      else if (info !== null) warnings.push('__metadata__ is not an object; ignored');
      continue;
    }
    const bad = (why: string): never =>
      fail(SafetensorsHeaderErrorReason.InvalidTensorInfo, `Tensor "${name}": ${why}`, path, { tensor: name });
    if (!isRecord(info)) bad('entry is not an object');
    const entry = info as Record<string, unknown>;
    const dtype = entry['dtype'];
    const shape = entry['shape'];
    const offsets = entry['data_offsets'];
    if (typeof dtype !== 'string') bad('dtype is not a string');
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0))
      bad('shape is not a list of sizes');
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)
    ) {
      bad('data_offsets is not [BEGIN, END]');
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end) bad(`data_offsets BEGIN ${begin} > END ${end}`);
    const dims = shape as number[];
    const width = DTYPE_BYTES[dtype as string];
    if (width !== undefined) {
      const expected = dims.reduce((a, d) => a * d, 1) * width;
      if (expected !== end - begin)
        warnings.push(
          `Tensor "${name}": ${end - begin} bytes for ${dtype as string}${JSON.stringify(dims)} (expected ${expected})`,
        );
    } else {
      warnings.push(`Tensor "${name}": unknown dtype ${String(dtype)}`);
    }
    dtypes.add(dtype as string);
    tensors.push({ name, shape: dims });
    ranges.push([begin, end, name]);
    if (end > maxEnd) maxEnd = end;
  }

  const expectedSize = 8 + n + maxEnd;
  if (expectedSize > fileSize) {
    fail(
      SafetensorsHeaderErrorReason.DataTruncated,
      `Tensor data needs ${expectedSize} bytes but the file has ${fileSize}: truncated download?`,
      path,
      { expected: expectedSize, size: fileSize },
    );
  }
  if (expectedSize < fileSize) {
    fail(
      SafetensorsHeaderErrorReason.TrailingBytes,
      `File has ${fileSize - expectedSize} bytes after the last tensor`,
      path,
      {
        expected: expectedSize,
        size: fileSize,
      },
    );
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cursor = 0;
  for (const [begin, end, name] of ranges) {
    if (begin !== cursor) {
      warnings.push(`Tensor "${name}" starts at ${begin}, expected ${cursor} (gap or overlap)`);
      break;
    }
    cursor = end;
  }

  const sanitised = sanitiseMetadata(rawMetadata, opts);
  warnings.push(...sanitised.warnings);
  const result: SafetensorsHeader = {
    path,
    fileSize,
    headerLength: n,
    dataOffset: 8 + n,
    dataLength: maxEnd,
    metadata: sanitised.metadata,
    sanitised: sanitised.actions,
    tensorNames: tensors.map((t) => t.name),
    tensorCount: tensors.length,
    dtypes: [...dtypes].sort(),
    loraKind: detectLoraKind(tensors, sanitised.metadata),
    tagFrequency: sanitised.tagFrequency,
    embeddedImages: sanitised.embedded,
    warnings,
  };
  if (opts.decodeEmbeddedPreview) {
    const key = opts.decodeEmbeddedPreview;
    const refs = sanitised.embedded;
    const ref = typeof key === 'string' ? refs.find((r) => r.key === key && r.usable) : firstUsableEmbedded(refs);
    const preview = ref ? decodeEmbeddedPreview(rawMetadata, ref.key) : undefined;
    if (preview) result.embeddedPreview = preview;
  }
  return result;
}

export interface SanitisedMetadata {
  metadata: Record<string, string>;
  actions: SafetensorsHeader['sanitised'];
  embedded: EmbeddedImageRef[];
  tagFrequency: TagCount[];
  warnings: string[];
}

/**
 * Make `__metadata__` a string → string map and cap it the way SD.Next does
 * (`modules/sd_checkpoint.py read_metadata_from_safetensors`): `data:` URIs become `data`, a
 * `workflow` value becomes `workflow`, `NaN` values and `format: pt` are dropped, and values over
 * 2048 characters are dropped for `ss_datasets`, `ss_bucket_info`, `prompt`, `sd_metadata_file`,
 * collapsed to tag counts per folder for `ss_tag_frequency`, and scrubbed of `sd_merge_recipe` for
 * `sd_merge_models`. Values stay strings (SD.Next parses `{…}` values into objects; we keep the text).
 * Non-string values, which only non-reference writers produce, are stringified.
 */
export function sanitiseMetadata(
  raw: Readonly<Record<string, unknown>>,
  opts: SafetensorsHeaderOptions = {},
): SanitisedMetadata {
  const large = opts.largeValueChars ?? DEFAULT_LARGE_VALUE_CHARS;
  const maxChars = opts.maxValueChars ?? DEFAULT_MAX_VALUE_CHARS;
  const maxTags = opts.maxTagSuggestions ?? 100;
  const metadata: Record<string, string> = {};
  const actions: SafetensorsHeader['sanitised'] = [];
  const embedded: EmbeddedImageRef[] = [];
  const warnings: string[] = [];
  let tagFrequency: TagCount[] = [];

  for (const [key, rawValue] of Object.entries(raw)) {
    if (rawValue === null || rawValue === undefined) {
      actions.push({ key, action: 'dropped', why: 'null value' });
      continue;
    }
    let v: string;
    if (typeof rawValue === 'string') {
      v = rawValue;
    } else {
      v = JSON.stringify(rawValue);
      actions.push({ key, action: 'stringified', why: `${Array.isArray(rawValue) ? 'array' : typeof rawValue} value` });
    }

    if ((EMBEDDED_KEYS as readonly string[]).includes(key)) {
      const ref = embeddedRef(key, v);
      if (ref) {
        embedded.push(ref);
        metadata[key] = 'data';
        actions.push({ key, action: 'replaced', why: 'embedded image' });
        continue;
      }
    }
    if (v.startsWith('data:')) {
      metadata[key] = 'data';
      actions.push({ key, action: 'replaced', why: 'data URI' });
      continue;
    }
    if (key === 'format' && v === 'pt') {
      actions.push({ key, action: 'dropped', why: 'format=pt' });
      continue;
    }
    const isLarge = v.length > large;
    if (
      isLarge &&
      (key === 'ss_datasets' || key === 'prompt' || key === 'ss_bucket_info' || key === 'sd_metadata_file')
    ) {
      actions.push({ key, action: 'dropped', why: `longer than ${large} characters` });
      continue;
    }
    if (key === 'workflow') {
      metadata[key] = 'workflow';
      actions.push({ key, action: 'replaced', why: 'workflow' });
      continue;
    }
    if (v === 'NaN') {
      actions.push({ key, action: 'dropped', why: 'NaN' });
      continue;
    }
    if (key === 'ss_tag_frequency') {
      const freq = parseJsonObject(v);
      if (freq) {
        tagFrequency = summariseTagFrequency(freq, maxTags);
        if (isLarge) {
          const counts: Record<string, number> = {};
          for (const [folder, tags] of Object.entries(freq))
            counts[folder] = isRecord(tags) ? Object.keys(tags).length : 0;
          metadata[key] = JSON.stringify(counts);
          actions.push({ key, action: 'collapsed', why: `longer than ${large} characters: tag count per folder` });
          continue;
        }
      } else {
        warnings.push('ss_tag_frequency is not a JSON object');
      }
    }
    if (key === 'sd_merge_models' && isLarge) {
      const models = parseJsonObject(v);
      if (models) {
        scrubKey(models, 'sd_merge_recipe');
        v = JSON.stringify(models);
        actions.push({ key, action: 'replaced', why: 'sd_merge_recipe removed' });
      }
    }
    if (v.length > maxChars) {
      actions.push({ key, action: 'dropped', why: `longer than ${maxChars} characters` });
      warnings.push(`Metadata value "${key}" dropped: ${v.length} characters`);
      continue;
    }
    metadata[key] = v;
  }
  return { metadata, actions, embedded, tagFrequency, warnings };
}

function parseJsonObject(v: string): Record<string, unknown> | undefined {
  if (!v.trimStart().startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(v);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function scrubKey(obj: unknown, key: string): void {
  if (Array.isArray(obj)) {
    for (const item of obj) scrubKey(item, key);
  } else if (isRecord(obj)) {
    delete obj[key];
    for (const v of Object.values(obj)) scrubKey(v, key);
  }
}

/** Merge the inner maps of all dataset folders, sum counts, most frequent first (LORA-FORMATS §2.1). */
export function summariseTagFrequency(freq: Readonly<Record<string, unknown>>, limit = 100): TagCount[] {
  const sums = new Map<string, number>();
  for (const tags of Object.values(freq)) {
    if (!isRecord(tags)) continue;
    for (const [tag, count] of Object.entries(tags)) {
      const t = tag.trim();
      if (t === '' || typeof count !== 'number' || !Number.isFinite(count)) continue;
      sums.set(t, (sums.get(t) ?? 0) + count);
    }
  }
  return [...sums.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, limit)
    .map(([tag, count]) => ({ tag, count }));
}

function embeddedRef(key: string, v: string): EmbeddedImageRef | undefined {
  const text = imageTextOf(key, v);
  if (text === undefined) return undefined;
  const base64 = base64Of(text);
  const oversized = text.length > MAX_EMBEDDED_IMAGE_CHARS;
  // The first 24 bytes (32 base64 characters) tell the type: an image is usable for what it is, whatever it claims.
  const sniffed = base64 === undefined ? undefined : imageTypeOf(Buffer.from(base64.slice(0, 32), 'base64'));
  const claimed = text.startsWith('data:') ? dataUrlType(text) : 'image/png';
  return {
    key,
    contentType: sniffed ?? claimed,
    chars: text.length,
    oversized,
    usable: sniffed !== undefined && !oversized,
  };
}

/**
 * The image text a header value holds: a `data:` URL, or for `ssmd_cover_images` the first entry of a JSON array
 * of base64 PNGs (sd-webui-additional-networks metadata editor); undefined when there is none.
 */
function imageTextOf(key: string, value: unknown): string | undefined {
  if (key === 'ssmd_cover_images') {
    let arr: unknown = value;
    if (typeof value === 'string') {
      if (!value.trimStart().startsWith('[')) return undefined;
      try {
        arr = JSON.parse(value);
      } catch {
        return undefined;
      }
    }
    const first: unknown = Array.isArray(arr) ? arr[0] : undefined;
    return typeof first === 'string' && first.length > 0 ? first : undefined;
  }
  return typeof value === 'string' && value.startsWith('data:') ? value : undefined;
}

/** The base64 payload of an image text (a base64 `data:` URL, or bare base64), or undefined. */
function base64Of(text: string): string | undefined {
  if (!text.startsWith('data:')) return text;
  const comma = text.indexOf(',');
  return comma > 0 && /;base64$/i.test(text.slice(0, comma)) ? text.slice(comma + 1) : undefined;
}

function dataUrlType(v: string): string {
  const m = /^data:([^;,]+)/.exec(v);
  return m ? m[1].toLowerCase() : 'application/octet-stream';
}

/** The embedded image a preview comes from: the first usable one in key order (`EMBEDDED_KEYS`). */
export function firstUsableEmbedded(refs: readonly EmbeddedImageRef[]): EmbeddedImageRef | undefined {
  for (const key of EMBEDDED_KEYS) {
    const ref = refs.find((r) => r.key === key && r.usable);
    if (ref) return ref;
  }
  return undefined;
}

/** The image under `key`, decoded, if its bytes really are an image; served as what they are. */
function decodeEmbeddedPreview(raw: Readonly<Record<string, unknown>>, key: string): EmbeddedPreview | undefined {
  const text = imageTextOf(key, raw[key]);
  const base64 = text === undefined ? undefined : base64Of(text);
  if (base64 === undefined) return undefined;
  const bytes = Buffer.from(base64, 'base64');
  const contentType = imageTypeOf(bytes);
  return contentType ? { key, contentType, bytes } : undefined;
}
