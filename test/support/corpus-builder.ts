// Builds LoRA libraries on disk for tests and benchmarks: REAL `.safetensors` files (8-byte length,
// JSON header padded with spaces to 8 bytes, deterministic tensor bytes from a seed) and every sidecar
// flavour of docs LORA-FORMATS §4 in realistic shapes, plus the edge cases an importer must survive.
// Hashes returned here are computed with node:crypto over the written bytes.

import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { deflateSync } from 'node:zlib';

/** A fresh directory under the OS temp dir; remove it with `removeTempDir`. */
export async function makeTempDir(prefix = 'lora-corpus-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------------
// safetensors
// ---------------------------------------------------------------------------------------------------

export type Dtype =
  'F16' | 'BF16' | 'F32' | 'F64' | 'I8' | 'U8' | 'I16' | 'I32' | 'I64' | 'BOOL' | 'F8_E4M3' | 'F8_E5M2';

export const DTYPE_BYTES: Readonly<Record<Dtype, number>> = {
  F16: 2,
  BF16: 2,
  F32: 4,
  F64: 8,
  I8: 1,
  U8: 1,
  I16: 2,
  I32: 4,
  I64: 8,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

export interface TensorSpec {
  name: string;
  dtype: Dtype;
  shape: number[];
}

export interface SafetensorsSpec {
  /** `__metadata__`; values are normally strings, other JSON types are written as given. */
  metadata?: Record<string, unknown>;
  /** Default: a tiny kohya-style LoRA module (alpha, lora_down, lora_up). */
  tensors?: TensorSpec[];
  /** Seed of the tensor bytes: same seed + same tensors = same data section. Default 1. */
  seed?: number | string;
  /** Pad the header with spaces so that N is a multiple of this; default 8 (the reference writer). */
  headerAlignment?: number;
  /** Replace the header bytes entirely (N follows it unless `declaredHeaderLength` is set). */
  rawHeader?: string | Buffer;
  /** Write this N in the 8-byte prefix instead of the real header length. */
  declaredHeaderLength?: number | bigint;
  /** Cut the file to this many bytes after building it. */
  truncateTo?: number;
  /** Cut this many bytes off the end after building it (a truncated download). */
  truncateBy?: number;
  /** Append this many junk bytes after the tensor data. */
  trailingBytes?: number;
}

export interface BuiltSafetensors {
  bytes: Buffer;
  size: number;
  /** N as written in the prefix. */
  headerLength: number;
  /** 8 + N. */
  dataOffset: number;
  /** SHA-256 of the whole file, lower-case hex. */
  sha256: string;
  /** SHA-256 of the bytes after the header, lower-case hex. */
  tensorSha256: string;
}

export interface WrittenSafetensors extends BuiltSafetensors {
  path: string;
  /** File name with extension. */
  name: string;
}

export const DEFAULT_TENSORS: readonly TensorSpec[] = [
  { name: 'lora_unet_down_blocks_0_attentions_0_proj_in.alpha', dtype: 'F16', shape: [] },
  { name: 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight', dtype: 'F16', shape: [4, 32] },
  { name: 'lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight', dtype: 'F16', shape: [32, 4] },
];

/** FNV-1a over a string: turns a string seed into a 32-bit one. */
function seed32(seed: number | string): number {
  if (typeof seed === 'number') return seed >>> 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Deterministic pseudo-random bytes (mulberry32). */
export function seededBytes(length: number, seed: number | string): Buffer {
  const out = Buffer.allocUnsafe(length);
  let a = seed32(seed) || 0x9e3779b9;
  let i = 0;
  while (i < length) {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    const v = (t ^ (t >>> 14)) >>> 0;
    for (let k = 0; k < 4 && i < length; k++, i++) out[i] = (v >>> (k * 8)) & 0xff;
  }
  return out;
}

export function sha256Hex(bytes: Buffer | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Build a safetensors file in memory. */
export function buildSafetensors(spec: SafetensorsSpec = {}): BuiltSafetensors {
  const tensors = spec.tensors ?? DEFAULT_TENSORS;
  let headerBuf: Buffer;
  let dataLength = 0;
  if (spec.rawHeader !== undefined) {
    headerBuf = Buffer.isBuffer(spec.rawHeader) ? spec.rawHeader : Buffer.from(spec.rawHeader, 'utf8');
    for (const t of tensors) dataLength += t.shape.reduce((a, d) => a * d, 1) * DTYPE_BYTES[t.dtype];
  } else {
    const header: Record<string, unknown> = {};
    if (spec.metadata !== undefined) header['__metadata__'] = spec.metadata;
    for (const t of tensors) {
      const len = t.shape.reduce((a, d) => a * d, 1) * DTYPE_BYTES[t.dtype];
      header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [dataLength, dataLength + len] };
      dataLength += len;
    }
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    const align = Math.max(1, spec.headerAlignment ?? 8);
    const padded = Math.ceil(json.length / align) * align;
    headerBuf = Buffer.alloc(padded, 0x20);
    json.copy(headerBuf);
  }
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(spec.declaredHeaderLength ?? headerBuf.length));
  const data = seededBytes(dataLength, spec.seed ?? 1);
  let bytes = Buffer.concat([prefix, headerBuf, data, Buffer.alloc(spec.trailingBytes ?? 0, 0xaa)]);
  if (spec.truncateTo !== undefined) bytes = bytes.subarray(0, spec.truncateTo);
  if (spec.truncateBy !== undefined) bytes = bytes.subarray(0, Math.max(0, bytes.length - spec.truncateBy));
  const dataOffset = 8 + headerBuf.length;
  return {
    bytes,
    size: bytes.length,
    headerLength: headerBuf.length,
    dataOffset,
    sha256: sha256Hex(bytes),
    tensorSha256: sha256Hex(bytes.subarray(Math.min(dataOffset, bytes.length))),
  };
}

async function writeBytes(path: string, bytes: Buffer | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
}

export async function writeSafetensors(path: string, spec: SafetensorsSpec = {}): Promise<WrittenSafetensors> {
  const built = buildSafetensors(spec);
  await writeBytes(path, built.bytes);
  return { ...built, path, name: basename(path) };
}

// ---------------------------------------------------------------------------------------------------
// Civitai JSON (version and model objects, §4.1 / §4.3)
// ---------------------------------------------------------------------------------------------------

export interface CivitaiFileSpec {
  id?: number;
  name: string;
  sizeKB?: number;
  type?: string;
  primary?: boolean;
  /** Any case; written upper-case as Civitai does. */
  sha256?: string;
  autoV3?: string;
  blake3?: string;
  crc32?: string;
  autoV1?: string;
  downloadUrl?: string;
}

export interface CivitaiImageSpec {
  url: string;
  nsfwLevel?: number;
  /** Old answers: "None" | "Soft" | "Mature" | "X" or a boolean. */
  nsfw?: string | boolean;
  width?: number;
  height?: number;
  type?: string;
  meta?: Record<string, unknown>;
}

export interface CivitaiVersionSpec {
  id: number;
  modelId?: number;
  name?: string;
  baseModel?: string;
  trainedWords?: string[];
  nsfwLevel?: number;
  description?: string | null;
  createdAt?: string;
  publishedAt?: string;
  updatedAt?: string;
  stats?: Record<string, number>;
  /** `model` block of a version answer; `creator` as a string reproduces old Civitai Helper files. */
  model?: {
    name: string;
    type?: string;
    nsfw?: boolean;
    poi?: boolean;
    creator?: string;
    tags?: string[];
    description?: string;
  } & Record<string, unknown>;
  creator?: { username: string; image?: string | null };
  files?: CivitaiFileSpec[];
  images?: CivitaiImageSpec[];
  air?: string;
  /** Extra top-level keys, written as given. */
  extra?: Record<string, unknown>;
}

function civitaiFileJson(f: CivitaiFileSpec, versionId: number): Record<string, unknown> {
  const hashes: Record<string, string> = {};
  if (f.autoV1) hashes['AutoV1'] = f.autoV1.toUpperCase();
  if (f.sha256) {
    hashes['AutoV2'] = f.sha256.slice(0, 10).toUpperCase();
    hashes['SHA256'] = f.sha256.toUpperCase();
  }
  if (f.crc32) hashes['CRC32'] = f.crc32.toUpperCase();
  if (f.blake3) hashes['BLAKE3'] = f.blake3.toUpperCase();
  if (f.autoV3) hashes['AutoV3'] = f.autoV3.slice(0, 12).toUpperCase();
  return {
    id: f.id ?? versionId * 10 + 1,
    sizeKB: f.sizeKB ?? 1.5,
    name: f.name,
    type: f.type ?? 'Model',
    pickleScanResult: 'Success',
    pickleScanMessage: 'No Pickle imports',
    virusScanResult: 'Success',
    virusScanMessage: null,
    scannedAt: '2024-03-01T10:05:00.000Z',
    metadata: { format: 'SafeTensor', size: null, fp: null },
    hashes,
    primary: f.primary ?? true,
    downloadUrl: f.downloadUrl ?? `https://civitai.com/api/download/models/${versionId}`,
  };
}

function civitaiImageJson(i: CivitaiImageSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {
    url: i.url,
    width: i.width ?? 832,
    height: i.height ?? 1216,
    type: i.type ?? 'image',
  };
  if (i.nsfwLevel !== undefined) out['nsfwLevel'] = i.nsfwLevel;
  if (i.nsfw !== undefined) out['nsfw'] = i.nsfw;
  out['hash'] = 'U8F~gd~q00-;00of%MIU00xu?bj[00M{?bxu';
  out['hasMeta'] = i.meta !== undefined;
  if (i.meta) out['meta'] = i.meta;
  return out;
}

/** A Civitai model-version object (the `.civitai.info` content). */
export function civitaiVersionJson(spec: CivitaiVersionSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: spec.id,
    modelId: spec.modelId,
    name: spec.name ?? 'v1.0',
    createdAt: spec.createdAt ?? '2024-03-01T10:00:00.000Z',
    updatedAt: spec.updatedAt ?? '2024-03-01T10:30:00.000Z',
    status: 'Published',
    publishedAt: spec.publishedAt ?? '2024-03-01T10:30:00.000Z',
    trainedWords: spec.trainedWords ?? [],
    trainingStatus: null,
    trainingDetails: null,
    baseModel: spec.baseModel ?? 'SDXL 1.0',
    baseModelType: 'Standard',
    earlyAccessEndsAt: null,
    earlyAccessConfig: null,
    description: spec.description === undefined ? '<p>First release.</p>' : spec.description,
    uploadType: 'Created',
    usageControl: 'Download',
    air: spec.air ?? `urn:air:sdxl:lora:civitai:${spec.modelId ?? 0}@${spec.id}`,
    stats: spec.stats ?? { downloadCount: 1520, thumbsUpCount: 210 },
    files: (spec.files ?? []).map((f) => civitaiFileJson(f, spec.id)),
    images: (spec.images ?? []).map(civitaiImageJson),
    downloadUrl: `https://civitai.com/api/download/models/${spec.id}`,
  };
  if (spec.modelId === undefined) delete out['modelId'];
  if (spec.nsfwLevel !== undefined) out['nsfwLevel'] = spec.nsfwLevel;
  if (spec.model) out['model'] = { type: 'LORA', nsfw: false, poi: false, ...spec.model };
  if (spec.creator) out['creator'] = spec.creator;
  return { ...out, ...spec.extra };
}

export interface CivitaiModelSpec {
  id: number;
  name: string;
  type?: string;
  description?: string;
  creator?: string;
  tags?: string[];
  nsfw?: boolean;
  nsfwLevel?: number;
  allowNoCredit?: boolean;
  /** Array (current) or string (older answers). */
  allowCommercialUse?: string[] | string;
  allowDerivatives?: boolean;
  allowDifferentLicense?: boolean;
  stats?: Record<string, number>;
  /** Newest first, as Civitai lists them. */
  versions: CivitaiVersionSpec[];
  extra?: Record<string, unknown>;
}

/** A Civitai `/models/{id}` object (the SD.Next `.json` content). */
export function civitaiModelJson(spec: CivitaiModelSpec): Record<string, unknown> {
  return {
    id: spec.id,
    name: spec.name,
    description: spec.description ?? '<p>A soft painterly look.</p>',
    allowNoCredit: spec.allowNoCredit ?? true,
    allowCommercialUse: spec.allowCommercialUse ?? ['Image', 'RentCivit'],
    allowDerivatives: spec.allowDerivatives ?? true,
    allowDifferentLicense: spec.allowDifferentLicense ?? true,
    type: spec.type ?? 'LORA',
    minor: false,
    poi: false,
    nsfw: spec.nsfw ?? false,
    nsfwLevel: spec.nsfwLevel ?? 1,
    stats: spec.stats ?? {
      downloadCount: 1980,
      favoriteCount: 0,
      thumbsUpCount: 260,
      thumbsDownCount: 1,
      commentCount: 14,
      ratingCount: 0,
      rating: 0,
    },
    creator: { username: spec.creator ?? 'example_artist', image: null },
    tags: spec.tags ?? ['style'],
    modelVersions: spec.versions.map((v) => {
      const json = civitaiVersionJson(v);
      // Versions inside a model object carry no modelId/model block.
      delete json['modelId'];
      delete json['model'];
      return json;
    }),
    ...spec.extra,
  };
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeBytes(path, JSON.stringify(value, null, 2));
}

/** `.civitai.info`: a version object, or `'empty'` for Civitai Helper's `{}` "not on Civitai" marker. */
export async function writeCivitaiInfo(
  path: string,
  spec: CivitaiVersionSpec | 'empty',
): Promise<Record<string, unknown>> {
  const json = spec === 'empty' ? {} : civitaiVersionJson(spec);
  await writeJson(path, json);
  return json;
}

export async function writeSdnextModelJson(path: string, spec: CivitaiModelSpec): Promise<Record<string, unknown>> {
  const json = civitaiModelJson(spec);
  await writeJson(path, json);
  return json;
}

// ---------------------------------------------------------------------------------------------------
// Other sidecars
// ---------------------------------------------------------------------------------------------------

export interface A1111Spec {
  description?: string;
  sdVersion?: string;
  activationText?: string;
  preferredWeight?: number;
  negativeText?: string;
  notes?: string;
  /** civbrowser+ keys. */
  sha256?: string;
  modelId?: number;
  modelVersionId?: number;
  extra?: Record<string, unknown>;
}

export function a1111Json(spec: A1111Spec): Record<string, unknown> {
  const out: Record<string, unknown> = {
    description: spec.description ?? '',
    'sd version': spec.sdVersion ?? 'Unknown',
    'activation text': spec.activationText ?? '',
    'preferred weight': spec.preferredWeight ?? 0,
    'negative text': spec.negativeText ?? '',
    notes: spec.notes ?? '',
  };
  if (spec.sha256 !== undefined) out['sha256'] = spec.sha256.toLowerCase();
  if (spec.modelId !== undefined) out['modelId'] = spec.modelId;
  if (spec.modelVersionId !== undefined) out['modelVersionId'] = spec.modelVersionId;
  return { ...out, ...spec.extra };
}

export async function writeA1111Json(path: string, spec: A1111Spec): Promise<Record<string, unknown>> {
  const json = a1111Json(spec);
  await writeJson(path, json);
  return json;
}

export interface LoraManagerSpec {
  modelName: string;
  sha256?: string;
  size?: number;
  baseModel?: string;
  filePath?: string;
  /** The Civitai version (LoRA-Manager adds `model` and `creator` from the model API). */
  civitai?: CivitaiVersionSpec;
  tags?: string[];
  modelDescription?: string;
  notes?: string;
  favorite?: boolean;
  civitaiDeleted?: boolean;
  previewUrl?: string;
  previewNsfwLevel?: number;
  /** `autov3`: a value, `null` (checked, none), or omitted (not checked). */
  autov3?: string | null;
  usageTips?: Record<string, number>;
  extra?: Record<string, unknown>;
}

export function loraManagerJson(spec: LoraManagerSpec): Record<string, unknown> {
  const fileStem = spec.filePath ? basename(spec.filePath).replace(/\.[^.]*$/, '') : spec.modelName;
  const out: Record<string, unknown> = {
    file_name: fileStem,
    model_name: spec.modelName,
    file_path: spec.filePath ?? `/data/loras/${fileStem}.safetensors`,
    size: spec.size ?? 0,
    modified: 1709287200.0,
    sha256: spec.sha256?.toLowerCase() ?? '',
    base_model: spec.baseModel ?? 'Unknown',
    preview_url: spec.previewUrl ?? '',
    preview_nsfw_level: spec.previewNsfwLevel ?? 0,
    notes: spec.notes ?? '',
    from_civitai: spec.civitai !== undefined,
    civitai: spec.civitai ? civitaiVersionJson(spec.civitai) : {},
    tags: spec.tags ?? [],
    modelDescription: spec.modelDescription ?? '',
    civitai_deleted: spec.civitaiDeleted ?? false,
    favorite: spec.favorite ?? false,
    exclude: false,
    db_checked: false,
    skip_metadata_refresh: false,
    metadata_source: spec.civitai ? 'civitai_api' : null,
    last_checked_at: 1709287200.0,
    hash_status: 'completed',
    usage_tips: JSON.stringify(spec.usageTips ?? {}),
  };
  if (spec.autov3 !== undefined) out['autov3'] = spec.autov3 === null ? null : spec.autov3.slice(0, 12).toLowerCase();
  return { ...out, ...spec.extra };
}

export async function writeLoraManagerMetadata(path: string, spec: LoraManagerSpec): Promise<Record<string, unknown>> {
  const json = loraManagerJson(spec);
  await writeJson(path, json);
  return json;
}

export interface CmInfoSpec {
  modelId?: number;
  modelName?: string;
  modelDescription?: string;
  nsfw?: boolean;
  tags?: string[];
  modelType?: string;
  versionId?: number;
  versionName?: string;
  versionDescription?: string;
  authorUsername?: string;
  baseModel?: string;
  remoteFileName?: string;
  sha256?: string;
  blake3?: string;
  crc32?: string;
  trainedWords?: string[];
  userTitle?: string | null;
  thumbnailImageUrl?: string | null;
  /** 0 Civitai, 1 OpenModelDb, 2 CivArchive, 3 Other, or a name. */
  source?: number | string;
  stats?: Record<string, number>;
  extra?: Record<string, unknown>;
}

export function cmInfoJson(spec: CmInfoSpec): Record<string, unknown> {
  const hashes: Record<string, string | null> = {
    SHA256: spec.sha256?.toUpperCase() ?? null,
    CRC32: spec.crc32?.toUpperCase() ?? null,
    BLAKE3: spec.blake3?.toUpperCase() ?? null,
  };
  return {
    ModelId: spec.modelId ?? 123456,
    ModelName: spec.modelName ?? 'My Painterly Style',
    ModelDescription: spec.modelDescription ?? '<p>A soft painterly look.</p>',
    Nsfw: spec.nsfw ?? false,
    Tags: spec.tags ?? ['style', 'painterly'],
    ModelType: spec.modelType ?? 'LORA',
    VersionId: spec.versionId ?? 345678,
    VersionName: spec.versionName ?? 'v1.0',
    VersionDescription: spec.versionDescription ?? '<p>First release.</p>',
    AuthorUsername: spec.authorUsername ?? 'example_artist',
    BaseModel: spec.baseModel ?? 'SDXL 1.0',
    RemoteFileName: spec.remoteFileName ?? 'my_style_v1.safetensors',
    RemoteFileId: 278901,
    FileMetadata: { fp: null, size: null, format: 'SafeTensor' },
    ImportedAt: '2024-03-02T09:15:00+00:00',
    Hashes: hashes,
    TrainedWords: spec.trainedWords ?? ['mystyle', 'painterly'],
    Stats: spec.stats ?? {
      favoriteCount: 0,
      commentCount: 14,
      thumbsUpCount: 260,
      downloadCount: 1980,
      ratingCount: 0,
      rating: 0,
    },
    UserTitle: spec.userTitle ?? null,
    ThumbnailImageUrl: spec.thumbnailImageUrl ?? null,
    InferenceDefaults: null,
    Source: spec.source ?? 0,
    SourceUrl: null,
    ...spec.extra,
  };
}

export async function writeCmInfo(path: string, spec: CmInfoSpec): Promise<Record<string, unknown>> {
  const json = cmInfoJson(spec);
  await writeJson(path, json);
  return json;
}

export interface SwarmSpec {
  title?: string;
  author?: string;
  description?: string;
  triggerPhrase?: string;
  usageHint?: string;
  tags?: string[];
  architecture?: string;
  defaultWeight?: string;
  /** Tensor hash, 64 hex; written with `0x`. */
  hashSha256?: string;
  previewImage?: string;
  date?: string;
  license?: string | null;
  extra?: Record<string, unknown>;
}

export function swarmJson(spec: SwarmSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {
    'modelspec.name': 'styles/my_style_v1.safetensors',
    'modelspec.title': spec.title ?? 'My Painterly Style',
    'modelspec.author': spec.author ?? 'example_artist',
    'modelspec.description': spec.description ?? 'A soft painterly look.',
    'modelspec.loaded': false,
    'modelspec.architecture': spec.architecture ?? 'stable-diffusion-xl-v1-base/lora',
    'modelspec.class': 'Stable Diffusion XL 1.0-Base LoRA',
    'modelspec.compat_class': 'stable-diffusion-xl-v1',
    'modelspec.resolution': '1024x1024',
    'modelspec.standard_width': 1024,
    'modelspec.standard_height': 1024,
    'modelspec.license': spec.license ?? null,
    'modelspec.date': spec.date ?? '2024-03-01',
    'modelspec.prediction_type': null,
    'modelspec.usage_hint': spec.usageHint ?? 'Works best between 0.6 and 0.9',
    'modelspec.trigger_phrase': spec.triggerPhrase ?? 'mystyle',
    'modelspec.merged_from': null,
    'modelspec.tags': spec.tags ?? ['style', 'painterly'],
    'modelspec.is_supported_model_format': true,
    'modelspec.is_negative_embedding': false,
    'modelspec.lora_default_weight': spec.defaultWeight ?? '0.8',
    'modelspec.lora_default_confinement': '',
    'modelspec.local': true,
    'modelspec.time_created': 1709287200000,
    'modelspec.time_modified': 1709287200000,
    'modelspec.special_format': '',
  };
  if (spec.previewImage !== undefined) out['modelspec.preview_image'] = spec.previewImage;
  if (spec.hashSha256 !== undefined) {
    out['modelspec.hash'] = `0x${spec.hashSha256}`;
    out['modelspec.hash_sha256'] = `0x${spec.hashSha256}`;
  }
  return { ...out, ...spec.extra };
}

export async function writeSwarmJson(path: string, spec: SwarmSpec): Promise<Record<string, unknown>> {
  const json = swarmJson(spec);
  await writeJson(path, json);
  return json;
}

/** A JSON file cut in the middle, as an interrupted write leaves it. */
export async function writeCorruptJson(path: string): Promise<void> {
  await writeBytes(
    path,
    '{"id": 345678, "modelId": 123456, "files": [{"name": "x.safetensors", "hashes": {"SHA256": "C8CC',
  );
}

// ---------------------------------------------------------------------------------------------------
// Preview images
// ---------------------------------------------------------------------------------------------------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** A valid w×h RGB PNG of one colour. */
export function tinyPng(width = 1, height = 1, rgb: [number, number, number] = [255, 128, 0]): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => rgb).flat())]);
  const raw = Buffer.concat(Array.from({ length: height }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A valid 1×1 baseline JPEG (written by libjpeg's cjpeg). */
export const TINY_JPEG = Buffer.from(
  'ffd8ffe000104a46494600010100000100010000ffdb004300100b0c0e0c0a100e0d0e1211101318281a181616183123251d283a333d3c3933383740485c4e404457453738506d51575f626768673e4d71797064785c656763ffdb0043011112121815182f1a1a2f634238426363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363636363ffc00011080001000103012200021101031101ffc4001500010100000000000000000000000000000004ffc40014100100000000000000000000000000000000ffc40014010100000000000000000000000000000006ffc40014110100000000000000000000000000000000ffda000c03010002110311003f00b0017237ffd9',
  'hex',
);

export type PreviewFormat = 'png' | 'jpeg';

/** Write a tiny valid image; the format follows the extension unless given. */
export async function writePreview(path: string, format?: PreviewFormat): Promise<Buffer> {
  const fmt = format ?? (/\.jpe?g$/i.test(path) ? 'jpeg' : 'png');
  const bytes = fmt === 'jpeg' ? TINY_JPEG : tinyPng();
  await writeBytes(path, bytes);
  return bytes;
}

/** A `data:` URL of the tiny PNG, for embedded previews (`modelspec.thumbnail`). */
export function tinyPngDataUrl(): string {
  return `data:image/png;base64,${tinyPng().toString('base64')}`;
}

// ---------------------------------------------------------------------------------------------------
// Whole corpora
// ---------------------------------------------------------------------------------------------------

type SpecOrFn<T> = T | ((file: WrittenSafetensors) => T);

export interface AdapterSpec {
  /** Relative to the corpus root, e.g. `styles/my_style_v1.safetensors`. */
  relPath: string;
  safetensors?: SafetensorsSpec;
  /** Sidecars: a spec, or a function of the written file (to use its real hashes and name). */
  civitaiInfo?: SpecOrFn<CivitaiVersionSpec | 'empty'>;
  a1111?: SpecOrFn<A1111Spec>;
  sdnext?: SpecOrFn<CivitaiModelSpec>;
  loraManager?: SpecOrFn<LoraManagerSpec>;
  cmInfo?: SpecOrFn<CmInfoSpec>;
  swarm?: SpecOrFn<SwarmSpec>;
  /** `<stem>.txt` description. */
  description?: string;
  preview?: { infix?: '' | '.preview' | '.thumb'; ext?: 'png' | 'jpg' | 'jpeg' | 'webp' | 'PNG' };
}

export interface CorpusSpec {
  adapters?: AdapterSpec[];
  /** Any other file (junk, non-LoRA models, corrupt sidecars). */
  files?: Array<{ relPath: string; content: string | Buffer }>;
  /** `target` is written as given (relative to the link's directory, or absolute). */
  symlinks?: Array<{ relPath: string; target: string }>;
}

export interface CorpusAdapter extends WrittenSafetensors {
  relPath: string;
  sidecars: string[];
  preview?: string;
}

export interface CorpusManifest {
  root: string;
  adapters: CorpusAdapter[];
}

function resolveSpec<T>(s: SpecOrFn<T> | undefined, file: WrittenSafetensors): T | undefined {
  return typeof s === 'function' ? (s as (f: WrittenSafetensors) => T)(file) : s;
}

function stem(path: string): string {
  return path.replace(/\.[^./\\]*$/, '');
}

export async function writeAdapter(root: string, spec: AdapterSpec): Promise<CorpusAdapter> {
  const path = join(root, spec.relPath);
  const file = await writeSafetensors(path, spec.safetensors);
  const base = stem(path);
  const sidecars: string[] = [];
  const add = async (suffix: string, write: (p: string) => Promise<unknown>): Promise<void> => {
    const p = base + suffix;
    await write(p);
    sidecars.push(p);
  };
  const civitaiInfo = resolveSpec(spec.civitaiInfo, file);
  if (civitaiInfo !== undefined) await add('.civitai.info', (p) => writeCivitaiInfo(p, civitaiInfo));
  const a1111 = resolveSpec(spec.a1111, file);
  if (a1111 !== undefined) await add('.json', (p) => writeA1111Json(p, a1111));
  const sdnext = resolveSpec(spec.sdnext, file);
  if (sdnext !== undefined) {
    if (a1111 !== undefined) throw new Error(`${spec.relPath}: A1111 and SD.Next sidecars share <stem>.json`);
    await add('.json', (p) => writeSdnextModelJson(p, sdnext));
  }
  const lm = resolveSpec(spec.loraManager, file);
  if (lm !== undefined) await add('.metadata.json', (p) => writeLoraManagerMetadata(p, lm));
  const cm = resolveSpec(spec.cmInfo, file);
  if (cm !== undefined) await add('.cm-info.json', (p) => writeCmInfo(p, cm));
  const swarm = resolveSpec(spec.swarm, file);
  if (swarm !== undefined) await add('.swarm.json', (p) => writeSwarmJson(p, swarm));
  if (spec.description !== undefined) await add('.txt', (p) => writeBytes(p, spec.description ?? ''));
  let preview: string | undefined;
  if (spec.preview) {
    preview = `${base}${spec.preview.infix ?? ''}.${spec.preview.ext ?? 'png'}`;
    await writePreview(preview);
  }
  return { ...file, relPath: spec.relPath, sidecars, preview };
}

export async function buildCorpus(root: string, spec: CorpusSpec): Promise<CorpusManifest> {
  await mkdir(root, { recursive: true });
  const adapters: CorpusAdapter[] = [];
  for (const a of spec.adapters ?? []) adapters.push(await writeAdapter(root, a));
  for (const f of spec.files ?? []) await writeBytes(join(root, f.relPath), f.content);
  for (const l of spec.symlinks ?? []) {
    const p = join(root, l.relPath);
    await mkdir(dirname(p), { recursive: true });
    await symlink(l.target, p);
  }
  return { root, adapters };
}

/** Paths (relative to the root) of the standard edge-case corpus. */
export const EDGE_CASES = {
  good: 'good/my_style_v1.safetensors',
  truncatedHeader: 'broken/truncated_header.safetensors',
  truncatedData: 'broken/truncated_data.safetensors',
  zeroByte: 'broken/zero.safetensors',
  notJsonHeader: 'broken/not_json.safetensors',
  corruptSidecar: 'broken/corrupt_sidecar.safetensors',
  emptyCivitaiInfo: 'negative/not_on_civitai.safetensors',
  duplicateA: 'dup/a/original.safetensors',
  duplicateB: 'dup/b/copy of original.safetensors',
  sameStemA: 'stems/x/same.safetensors',
  sameStemB: 'stems/y/same.safetensors',
  dots: 'names/my.lora.v1.0.safetensors',
  unicode: 'names/ünïcødé 名前 ✨.safetensors',
  spaces: 'names/with spaces (1).safetensors',
  upperExt: 'names/UPPER.SafeTensors',
  /** `loop/back` → `..` (points at its own parent). */
  symlinkLoop: 'loop/back',
  /** `linked` → `good` (a second path to the same directory). */
  symlinkDir: 'linked',
} as const;

/**
 * The edge cases an importer must survive: truncated header/data, zero bytes, non-JSON header, corrupt
 * sidecar, `{}` civitai.info, identical content in two places, identical stems in two folders, dots,
 * unicode and spaces in names, an upper-case extension, a symlink loop and a symlinked directory.
 */
export async function buildEdgeCaseCorpus(root: string): Promise<CorpusManifest> {
  const dupSpec: SafetensorsSpec = { metadata: { ss_output_name: 'dup' }, seed: 'duplicate' };
  const manifest = await buildCorpus(root, {
    adapters: [
      {
        relPath: EDGE_CASES.good,
        safetensors: {
          metadata: { ss_output_name: 'my_style_v1', ss_base_model_version: 'sdxl_base_v1-0' },
          seed: 'good',
        },
        civitaiInfo: (f) => ({
          id: 345678,
          modelId: 123456,
          model: { name: 'My Painterly Style' },
          files: [{ name: f.name, sha256: f.sha256 }],
        }),
        preview: { infix: '.preview', ext: 'png' },
      },
      { relPath: EDGE_CASES.truncatedData, safetensors: { seed: 'trunc', truncateBy: 100 } },
      { relPath: EDGE_CASES.corruptSidecar, safetensors: { seed: 'corrupt' } },
      { relPath: EDGE_CASES.emptyCivitaiInfo, safetensors: { seed: 'neg' }, civitaiInfo: 'empty' },
      { relPath: EDGE_CASES.duplicateA, safetensors: dupSpec },
      { relPath: EDGE_CASES.duplicateB, safetensors: dupSpec },
      { relPath: EDGE_CASES.sameStemA, safetensors: { seed: 'stem-x' }, a1111: { activationText: 'x style' } },
      { relPath: EDGE_CASES.sameStemB, safetensors: { seed: 'stem-y' }, a1111: { activationText: 'y style' } },
      { relPath: EDGE_CASES.dots, safetensors: { seed: 'dots' }, a1111: { description: 'dots' } },
      {
        relPath: EDGE_CASES.unicode,
        safetensors: { seed: 'unicode', metadata: { 'modelspec.title': 'Ünïcødé ✨' } },
        preview: { ext: 'jpg' },
      },
      { relPath: EDGE_CASES.spaces, safetensors: { seed: 'spaces' } },
      { relPath: EDGE_CASES.upperExt, safetensors: { seed: 'upper' } },
    ],
    files: [
      { relPath: EDGE_CASES.zeroByte, content: Buffer.alloc(0) },
      {
        relPath: EDGE_CASES.truncatedHeader,
        content: buildSafetensors({ seed: 'th', metadata: { a: 'b' } }).bytes.subarray(0, 40),
      },
      {
        relPath: EDGE_CASES.notJsonHeader,
        content: buildSafetensors({ rawHeader: '{not json at all}       ', tensors: [] }).bytes,
      },
      { relPath: 'broken/corrupt_sidecar.civitai.info', content: '{"id": 1, "files": [' },
      { relPath: 'names/readme.txt', content: 'not a model' },
      { relPath: 'names/old_model.ckpt', content: Buffer.alloc(16) },
    ],
    symlinks: [
      { relPath: EDGE_CASES.symlinkLoop, target: '..' },
      { relPath: EDGE_CASES.symlinkDir, target: 'good' },
    ],
  });
  return manifest;
}

export interface GenerateOptions {
  seed?: number | string;
  /** LoRAs per directory; default 100. */
  perDir?: number;
  /** Write sidecars and previews in a fixed rotation (see `SIDECAR_ROTATION`); default true. */
  sidecars?: boolean;
  /** Every n-th file repeats the content of the file before it (0 = never); default 0. */
  duplicateEvery?: number;
  /** Elements per lora_down/lora_up tensor (F16); default 64 (a ~300-byte file). */
  tensorElems?: number;
  /** Files written at once; default 64. */
  concurrency?: number;
}

export interface GeneratedCorpus {
  root: string;
  count: number;
  files: Array<{ relPath: string; sha256: string; sidecar: SidecarRotation }>;
}

export const SIDECAR_ROTATION = [
  'none',
  'civitai-info',
  'a1111',
  'sdnext',
  'lora-manager',
  'cm-info',
  'swarm',
  'civitai-empty',
] as const;
export type SidecarRotation = (typeof SIDECAR_ROTATION)[number];

/**
 * Write `count` small LoRAs quickly and deterministically: `d0000/lora_00000.safetensors`, …, with the
 * sidecar kinds rotating through `SIDECAR_ROTATION` and a preview for every third file.
 */
export async function generateCorpus(
  root: string,
  count: number,
  opts: GenerateOptions = {},
): Promise<GeneratedCorpus> {
  const perDir = Math.max(1, opts.perDir ?? 100);
  const elems = Math.max(1, opts.tensorElems ?? 64);
  const withSidecars = opts.sidecars ?? true;
  const seed = String(opts.seed ?? 'corpus');
  const files: GeneratedCorpus['files'] = new Array(count);
  const dirs = Math.ceil(count / perDir);
  await Promise.all(
    Array.from({ length: dirs }, (_, d) => mkdir(join(root, `d${String(d).padStart(4, '0')}`), { recursive: true })),
  );

  const one = async (i: number): Promise<void> => {
    const dir = `d${String(Math.floor(i / perDir)).padStart(4, '0')}`;
    const name = `lora_${String(i).padStart(5, '0')}`;
    const relPath = `${dir}/${name}.safetensors`;
    const contentIndex = opts.duplicateEvery && i > 0 && i % opts.duplicateEvery === 0 ? i - 1 : i;
    const built = buildSafetensors({
      seed: `${seed}:${contentIndex}`,
      metadata: {
        ss_output_name: `lora_${String(contentIndex).padStart(5, '0')}`,
        ss_base_model_version: contentIndex % 3 === 0 ? 'sd_v1' : 'sdxl_base_v1-0',
        ss_network_module: 'networks.lora',
        ss_network_dim: '4',
        ss_network_alpha: '4.0',
      },
      tensors: [
        { name: 'lora_unet_mid_block_attentions_0_proj_in.alpha', dtype: 'F16', shape: [] },
        { name: 'lora_unet_mid_block_attentions_0_proj_in.lora_down.weight', dtype: 'F16', shape: [1, elems] },
        { name: 'lora_unet_mid_block_attentions_0_proj_in.lora_up.weight', dtype: 'F16', shape: [elems, 1] },
      ],
    });
    const abs = join(root, relPath);
    await writeFile(abs, built.bytes);
    const rotation: SidecarRotation = withSidecars ? SIDECAR_ROTATION[i % SIDECAR_ROTATION.length] : 'none';
    const base = join(root, dir, name);
    const fileSpec = {
      name: `${name}.safetensors`,
      sha256: built.sha256,
      autoV3: built.tensorSha256,
      sizeKB: built.size / 1024,
    };
    const version: CivitaiVersionSpec = {
      id: 100000 + i,
      modelId: 50000 + i,
      name: 'v1.0',
      // Consistent with the header's ss_base_model_version (sd_v1 for every third content index).
      baseModel: contentIndex % 3 === 0 ? 'SD 1.5' : contentIndex % 5 === 0 ? 'Pony' : 'SDXL 1.0',
      trainedWords: [`trigger${i}`],
      nsfwLevel: 1 << (i % 5),
      model: { name: `Generated LoRA ${i}`, type: 'LORA' },
      files: [fileSpec],
      images: [{ url: `https://image.civitai.com/x/${i}.jpeg`, nsfwLevel: 1 }],
    };
    switch (rotation) {
      case 'none':
        break;
      case 'civitai-info':
        await writeJson(`${base}.civitai.info`, civitaiVersionJson(version));
        break;
      case 'civitai-empty':
        await writeJson(`${base}.civitai.info`, {});
        break;
      case 'a1111':
        await writeJson(
          `${base}.json`,
          a1111Json({
            activationText: `trigger${i}, style`,
            preferredWeight: 0.8,
            sdVersion: 'SDXL',
            description: `LoRA ${i}`,
          }),
        );
        break;
      case 'sdnext':
        await writeJson(
          `${base}.json`,
          civitaiModelJson({ id: 50000 + i, name: `Generated LoRA ${i}`, versions: [version] }),
        );
        break;
      case 'lora-manager':
        await writeJson(
          `${base}.metadata.json`,
          loraManagerJson({
            modelName: `Generated LoRA ${i}`,
            sha256: built.sha256,
            size: built.size,
            baseModel: version.baseModel,
            civitai: version,
          }),
        );
        break;
      case 'cm-info':
        await writeJson(
          `${base}.cm-info.json`,
          cmInfoJson({
            modelId: 50000 + i,
            versionId: 100000 + i,
            remoteFileName: `${name}.safetensors`,
            sha256: built.sha256,
            baseModel: version.baseModel,
          }),
        );
        break;
      case 'swarm':
        await writeJson(
          `${base}.swarm.json`,
          swarmJson({ title: `Generated LoRA ${i}`, hashSha256: built.tensorSha256 }),
        );
        break;
    }
    if (withSidecars && i % 3 === 0) await writeFile(`${base}.preview.png`, tinyPng());
    files[i] = { relPath, sha256: built.sha256, sidecar: rotation };
  };

  const limit = Math.max(1, opts.concurrency ?? 64);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) await one(next++);
    }),
  );
  return { root, count, files };
}
