// Civitai JSON shapes shared by several sidecars: the model-version object (§4.1, §8.3), the model
// object (§4.3, §8.4), and the file matching of §5.

import { normaliseCivitaiBaseModel } from './base-model.js';
import {
  MatchEvidence,
  MatchStrength,
  civitaiRef,
  fileEntry,
  hashSet,
  licenseFlags,
  sidecarStats,
  type HashSet,
  type LicenseFlags,
  type SidecarContext,
  type SidecarFacts,
  type SidecarFileEntry,
  type SidecarImage,
  type SidecarStats,
} from './facts.js';
import {
  asBoolean,
  asCount,
  asId,
  asIsoDate,
  asNumber,
  asString,
  asStringArray,
  isRecord,
  normaliseHex,
  pickUnmapped,
  type JsonRecord,
} from './json-values.js';
import { combineNsfwLevels, levelOfNsfwFlag, nsfwFlag, toNsfwLevel } from './nsfw.js';

/** File types that are not weights and never match the local LoRA (§5 step 1). */
const NON_WEIGHT_TYPES = new Set(['vae', 'text encoder', 'training data', 'config', 'archive']);

export function parseHashes(raw: unknown): HashSet {
  const h = hashSet();
  if (!isRecord(raw)) return h;
  // Keys are case-insensitive in practice (Civitai: SHA256/AutoV2; tools: sha256/autov2).
  for (const [k, v] of Object.entries(raw)) {
    switch (k.toLowerCase()) {
      case 'sha256':
        h.sha256 = normaliseHex(v, [64]) ?? h.sha256;
        break;
      case 'autov1':
        h.autoV1 = normaliseHex(v) ?? h.autoV1;
        break;
      case 'autov2':
        h.autoV2 = normaliseHex(v) ?? h.autoV2;
        break;
      case 'autov3':
        h.autoV3 = normaliseHex(v) ?? h.autoV3;
        break;
      case 'blake3':
        h.blake3 = normaliseHex(v, [64]) ?? h.blake3;
        break;
      case 'crc32':
        h.crc32 = normaliseHex(v, [8]) ?? h.crc32;
        break;
    }
  }
  return h;
}

export function parseCivitaiFile(raw: JsonRecord): SidecarFileEntry {
  const meta = isRecord(raw['metadata']) ? raw['metadata'] : {};
  const sizeKB = asNumber(raw['sizeKB']);
  return fileEntry(parseHashes(raw['hashes']), {
    id: asId(raw['id']),
    name: asString(raw['name']),
    sizeKB: sizeKB !== undefined && sizeKB >= 0 ? sizeKB : undefined,
    type: asString(raw['type']),
    primary: asBoolean(raw['primary']),
    downloadUrl: asString(raw['downloadUrl']),
    format: asString(meta['format']),
    fp: asString(meta['fp']),
  });
}

export function parseImages(raw: unknown): SidecarImage[] {
  if (!Array.isArray(raw)) return [];
  const out: SidecarImage[] = [];
  for (const item of raw) {
    if (!isRecord(item)) continue;
    const url = asString(item['url']);
    if (url === undefined) continue;
    const meta = item['meta'];
    const flag = nsfwFlag(item['nsfw']);
    out.push({
      url,
      // Old answers: `nsfw` as "None"|"Soft"|"Mature"|"X", or in the oldest a boolean.
      nsfwLevel:
        toNsfwLevel(item['nsfwLevel']) ??
        toNsfwLevel(item['nsfw']) ??
        (flag === undefined ? undefined : levelOfNsfwFlag(flag)),
      width: asCount(item['width']),
      height: asCount(item['height']),
      type: asString(item['type']),
      meta: isRecord(meta) ? meta : undefined,
    } satisfies Required<Record<keyof SidecarImage, unknown>>);
  }
  return out;
}

export function parseStats(raw: unknown): SidecarStats | undefined {
  if (!isRecord(raw)) return undefined;
  const s = sidecarStats({
    downloads: asCount(raw['downloadCount']),
    likes: asCount(raw['thumbsUpCount']),
    dislikes: asCount(raw['thumbsDownCount']),
    rating: asNumber(raw['rating']),
    ratingCount: asCount(raw['ratingCount']),
    favorites: asCount(raw['favoriteCount']),
    comments: asCount(raw['commentCount']),
  });
  return Object.values(s).some((v) => v !== undefined) ? s : undefined;
}

export function parseLicense(raw: JsonRecord): LicenseFlags | undefined {
  const commercial = raw['allowCommercialUse'];
  const l = licenseFlags({
    allowNoCredit: asBoolean(raw['allowNoCredit']),
    allowCommercialUse: Array.isArray(commercial)
      ? (asStringArray(commercial) ?? [])
      : typeof commercial === 'string'
        ? commercial.trim() === '' || commercial === 'None'
          ? []
          : [commercial.trim()]
        : undefined,
    allowDerivatives: asBoolean(raw['allowDerivatives']),
    allowDifferentLicense: asBoolean(raw['allowDifferentLicense']),
  });
  return Object.values(l).some((v) => v !== undefined) ? l : undefined;
}

function creatorName(raw: unknown): string | undefined {
  // Civitai says `username`, LoRA-Manager's copy `name`; some Civitai Helper versions store a plain string.
  return isRecord(raw) ? (asString(raw['username']) ?? asString(raw['name'])) : asString(raw);
}

const MODEL_KEYS = new Set([
  'id',
  'name',
  'description',
  'type',
  'nsfw',
  'nsfwLevel',
  'tags',
  'creator',
  'stats',
  'allowNoCredit',
  'allowCommercialUse',
  'allowDerivatives',
  'allowDifferentLicense',
  'modelVersions',
]);

/**
 * Model-level fields (SD.Next `.json` top level, `.civitai.info` `model`, LoRA-Manager `civitai.model`).
 * Only fills what is not already set. Returns the unmapped remainder.
 */
export function applyCivitaiModel(model: JsonRecord, facts: SidecarFacts): JsonRecord {
  const name = asString(model['name']);
  if (name !== undefined) facts.name ??= name;
  const description = asString(model['description']);
  if (description !== undefined) facts.description ??= description;
  const type = asString(model['type']);
  if (type !== undefined) facts.modelType ??= type;
  const nsfw = nsfwFlag(model['nsfw']);
  if (nsfw !== undefined) facts.nsfw ??= nsfw;
  const creator = creatorName(model['creator']);
  if (creator !== undefined) facts.creator ??= creator;
  const tags = asStringArray(model['tags']);
  if (tags && tags.length > 0 && facts.tags.length === 0) facts.tags = tags;
  const license = parseLicense(model);
  // What the sidecar already set wins over the model's flags.
  if (license) facts.license = licenseFlags(facts.license ?? {}, license);
  return pickUnmapped(model, MODEL_KEYS);
}

const VERSION_KEYS = new Set([
  'id',
  'modelId',
  'name',
  'description',
  'baseModel',
  'trainedWords',
  'nsfwLevel',
  'createdAt',
  'publishedAt',
  'updatedAt',
  'stats',
  'air',
  'files',
  'images',
  'model',
  'creator',
  'downloadUrl',
]);

export interface ApplyVersionResult {
  unmapped: JsonRecord;
  match?: FileMatch;
}

/**
 * Version-level fields of a Civitai model-version object into `facts`, including the matched file
 * as `primaryFile` (§5). `trustPrimary`: when no file matches, take the `primary` (or only) weight
 * file at strength `none`, as LoRA-Manager does for a `.civitai.info`.
 */
export function applyCivitaiVersion(
  version: JsonRecord,
  facts: SidecarFacts,
  ctx: SidecarContext,
  opts: { trustPrimary: boolean },
): ApplyVersionResult {
  const versionId = asId(version['id']);
  const modelId = asId(version['modelId']);
  const air = asString(version['air']);
  if (versionId !== undefined || modelId !== undefined || air !== undefined) {
    facts.civitai = civitaiRef(facts.civitai);
    if (versionId !== undefined) facts.civitai.versionId = versionId;
    if (modelId !== undefined) facts.civitai.modelId ??= modelId;
    if (air !== undefined) facts.civitai.air = air;
  }
  const versionName = asString(version['name']);
  if (versionName !== undefined) facts.versionName = versionName;
  const description = asString(version['description']);
  if (description !== undefined) facts.versionDescription = description;
  const baseModel = asString(version['baseModel']);
  if (baseModel !== undefined) {
    facts.baseModelRaw = baseModel;
    facts.baseModel = normaliseCivitaiBaseModel(baseModel).value;
  }
  const trained = asStringArray(version['trainedWords']);
  if (trained) facts.trainedWords = trained;
  const images = parseImages(version['images']);
  if (images.length > 0) {
    facts.images = images;
    facts.previewUrl ??= (images.find((i) => i.type === undefined || i.type === 'image') ?? images[0]).url;
  }
  const level = toNsfwLevel(version['nsfwLevel']) ?? combineNsfwLevels(images.map((i) => i.nsfwLevel));
  if (level !== undefined) facts.nsfwLevel = level;
  for (const key of ['createdAt', 'publishedAt', 'updatedAt'] as const) {
    const d = asIsoDate(version[key]);
    if (d !== undefined) facts[key] = d;
  }
  const stats = parseStats(version['stats']);
  if (stats) facts.stats = sidecarStats(stats, facts.stats);
  const creator = creatorName(version['creator']);
  if (creator !== undefined) facts.creator ??= creator;

  const out: ApplyVersionResult = { unmapped: pickUnmapped(version, VERSION_KEYS) };
  if (isRecord(version['model'])) {
    const modelRest = applyCivitaiModel(version['model'], facts);
    if (Object.keys(modelRest).length > 0) out.unmapped['model'] = modelRest;
  }

  const files = Array.isArray(version['files']) ? version['files'].filter(isRecord).map(parseCivitaiFile) : [];
  if (files.length > 0) {
    const match = matchCivitaiFile([{ files }], ctx);
    if (match) {
      out.match = match;
      const file = files[match.fileIndex];
      facts.primaryFile = fileEntry(file.hashes, file);
      facts.primaryFile.match = { strength: match.strength, by: match.by };
      if (match.hashConflict) {
        facts.warnings.push(
          `File "${files[match.fileIndex].name ?? '?'}" matched by ${match.by} but its SHA256 differs from the local file`,
        );
      }
    } else if (opts.trustPrimary) {
      const weights = files.filter(isWeightFile);
      const primary = weights.find((f) => f.primary === true) ?? (weights.length === 1 ? weights[0] : undefined);
      if (primary) {
        facts.primaryFile = fileEntry(primary.hashes, primary);
        facts.primaryFile.match = {
          strength: MatchStrength.None,
          by: weights.length === 1 ? MatchEvidence.Only : MatchEvidence.Primary,
        };
        facts.warnings.push(
          `No file of version ${versionId ?? '?'} matches the local file; took the ${weights.length === 1 ? 'only' : 'primary'} file "${primary.name ?? '?'}" on trust`,
        );
      } else {
        facts.warnings.push(`No file of version ${versionId ?? '?'} matches the local file, and none is primary`);
      }
    } else {
      facts.warnings.push(`No file of version ${versionId ?? '?'} matches the local file`);
    }
  }
  const versionUrl = asString(version['downloadUrl']);
  if (facts.primaryFile && facts.primaryFile.downloadUrl === undefined && versionUrl !== undefined)
    facts.primaryFile.downloadUrl = versionUrl;
  return out;
}

export function isWeightFile(f: SidecarFileEntry): boolean {
  return f.type === undefined || !NON_WEIGHT_TYPES.has(f.type.toLowerCase());
}

export interface FileMatch {
  versionIndex: number;
  fileIndex: number;
  strength: MatchStrength;
  by: MatchEvidence;
  /** Matched by name/size, but the entry's SHA256 contradicts the local one. */
  hashConflict?: boolean;
}

function stemOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

/** What is known of the local file, normalised for comparing with Civitai's file entries. */
interface LocalFile {
  sha?: string;
  tensor?: string;
  blake3?: string;
  crc32?: string;
  autoV1?: string;
  size?: number;
}

/** The hash rules of §5, strongest first; `hashRule` answers an index into this list. */
const HASH_RULES: ReadonlyArray<readonly [MatchEvidence, MatchStrength]> = [
  [MatchEvidence.Sha256, MatchStrength.Exact],
  [MatchEvidence.Blake3, MatchStrength.Exact],
  [MatchEvidence.AutoV3, MatchStrength.Strong],
  [MatchEvidence.AutoV2, MatchStrength.Strong],
  [MatchEvidence.Crc32, MatchStrength.Weak],
  [MatchEvidence.AutoV1, MatchStrength.Weak],
];

/** Whether the entry's size agrees with the local file's (within 1 KB); undefined when either is unknown. */
function sizeOk(file: SidecarFileEntry, size: number | undefined): boolean | undefined {
  return size === undefined || file.sizeKB === undefined ? undefined : Math.abs(file.sizeKB * 1024 - size) < 1024;
}

/** The entry's SHA256 contradicts the local one. */
function conflicts(file: SidecarFileEntry, sha: string | undefined): boolean {
  return sha !== undefined && file.hashes.sha256 !== undefined && file.hashes.sha256 !== sha;
}

/** The strongest hash rule this entry meets, as an index into `HASH_RULES` (its length: none). */
function hashRule(file: SidecarFileEntry, local: LocalFile): number {
  const h = file.hashes;
  if (local.sha !== undefined && h.sha256 === local.sha) return 0;
  if (local.blake3 !== undefined && h.blake3 === local.blake3) return 1;
  if (
    local.tensor !== undefined &&
    h.autoV3 !== undefined &&
    h.autoV3.length >= 10 &&
    local.tensor.startsWith(h.autoV3)
  )
    return 2;
  if (local.sha !== undefined && h.autoV2 !== undefined && h.autoV2.length >= 10 && local.sha.startsWith(h.autoV2))
    return 3;
  if (local.crc32 !== undefined && h.crc32 === local.crc32 && sizeOk(file, local.size) !== false) return 4;
  if (local.autoV1 !== undefined && h.autoV1 === local.autoV1 && sizeOk(file, local.size) === true) return 5;
  return HASH_RULES.length;
}

interface Candidate {
  v: number;
  f: number;
  file: SidecarFileEntry;
}

function found(c: Candidate, strength: MatchStrength, by: MatchEvidence, hashConflict = false): FileMatch {
  return { versionIndex: c.v, fileIndex: c.f, strength, by, hashConflict: hashConflict ? true : undefined };
}

/**
 * Find the Civitai file (and through it the version) that describes the local file, per
 * LORA-FORMATS §5: exact hashes (SHA256, BLAKE3), then strong ones (AutoV3 = tensor hash prefix,
 * AutoV2 = SHA256 prefix), then weak ones (CRC32, AutoV1) confirmed by size, then the file name
 * (with, then without extension), then size alone within 1 KB. Never falls back to the newest version.
 * Among entries that meet the same rule, the first listed wins. Plain loops over the candidates, without
 * closures: this runs for every sidecar of every file an import reads.
 */
export function matchCivitaiFile(
  versions: ReadonlyArray<{ files: readonly SidecarFileEntry[] }>,
  ctx: SidecarContext,
): FileMatch | undefined {
  const local: LocalFile = {
    sha: normaliseHex(ctx.sha256, [64]),
    tensor: normaliseHex(ctx.tensorSha256),
    blake3: normaliseHex(ctx.blake3, [64]),
    crc32: normaliseHex(ctx.crc32, [8]),
    autoV1: normaliseHex(ctx.autoV1),
    size: ctx.size,
  };
  const candidates: Candidate[] = [];
  for (let v = 0; v < versions.length; v++) {
    const files = versions[v].files;
    for (let f = 0; f < files.length; f++) {
      if (isWeightFile(files[f])) candidates.push({ v, f, file: files[f] });
    }
  }

  // The strongest rule any candidate meets decides; strict `<` keeps the first of equals.
  let best: Candidate | undefined;
  let bestRule = HASH_RULES.length;
  for (const c of candidates) {
    const rule = hashRule(c.file, local);
    if (rule < bestRule) {
      best = c;
      bestRule = rule;
    }
  }
  if (best) return found(best, HASH_RULES[bestRule][1], HASH_RULES[bestRule][0]);

  // The file name with its extension (rule 0), else without (rule 1): the hits of the best rule met.
  const name = ctx.fileName.toLowerCase();
  const stem = stemOf(name);
  let nameRule = 2;
  const hits: Candidate[] = [];
  for (const c of candidates) {
    const entryName = c.file.name?.toLowerCase();
    const rule = entryName === undefined ? 2 : entryName === name ? 0 : stemOf(entryName) === stem ? 1 : 2;
    if (rule < nameRule) {
      nameRule = rule;
      hits.length = 0;
    }
    if (rule === nameRule && rule < 2) hits.push(c);
  }
  if (hits.length > 0) {
    // Prefer a hit whose size agrees and whose hash does not contradict ours.
    let hit = hits[0];
    for (const h of hits) {
      if (sizeOk(h.file, local.size) !== false && !conflicts(h.file, local.sha)) {
        hit = h;
        break;
      }
    }
    const conflict = conflicts(hit.file, local.sha);
    const weak = sizeOk(hit.file, local.size) === false || conflict;
    const by = nameRule === 0 ? MatchEvidence.FileName : MatchEvidence.FileStem;
    return found(hit, weak ? MatchStrength.Weak : MatchStrength.Medium, by, conflict);
  }
  if (local.size !== undefined) {
    for (const c of candidates) {
      if (sizeOk(c.file, local.size) === true && !conflicts(c.file, local.sha))
        return found(c, MatchStrength.Weak, MatchEvidence.Size);
    }
  }
  return undefined;
}
