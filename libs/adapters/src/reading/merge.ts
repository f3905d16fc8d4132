// One AdapterFacts from the header, the sidecars and the computed hashes: everything the Adapter row
// needs from files. Precedence (LORA-FORMATS §4, recommendation): `.metadata.json` → `.cm-info.json`
// → `.civitai.info` → SD.Next `.json` → `.swarm.json` → A1111 `.json` → description `.txt` → header →
// file name. Computed hashes always beat any hash a sidecar or the header claims.

import {
  baseModelFamily,
  normaliseBaseModel,
  BaseModel,
  BaseModelSource,
  type NormalisedBaseModel,
} from './base-model.js';
import {
  SidecarKind,
  licenseFlags,
  type CivitaiRef,
  type HashSet,
  type LicenseFlags,
  type SidecarFacts,
  type SidecarFileEntry,
  type SidecarImage,
  type SidecarStats,
} from './facts.js';
import { autoV3FromHeader, type FileHashes } from './hasher.js';
import { asIsoDate, asNumber, splitList, uniqueStrings } from './json-values.js';
import { CIVITAI_TYPE_BY_KIND, LoraKind } from './lora-kind.js';
import { isNsfwLevel, levelOfNsfwFlag } from './nsfw.js';
import { firstUsableEmbedded, type SafetensorsHeader, type TagCount } from './safetensors-header.js';
import { stemOf } from './sidecars.js';

export const SIDECAR_PRECEDENCE: readonly SidecarKind[] = [
  SidecarKind.LoraManagerMetadata,
  SidecarKind.CmInfo,
  SidecarKind.CivitaiInfo,
  SidecarKind.SdnextJson,
  SidecarKind.SwarmJson,
  SidecarKind.A1111Json,
  SidecarKind.DescriptionText,
];

/** Where a merged value came from, besides a sidecar kind. */
export enum FactOrigin {
  /** Hashed from the file's bytes. */
  Computed = 'computed',
  Header = 'header',
  FileName = 'file_name',
  PreviewFile = 'preview_file',
}

export type FactSource = SidecarKind | FactOrigin;

export enum CivitaiLookupState {
  /** Some sidecar names a Civitai model/version. */
  Found = 'found',
  /** A `.civitai.info` holding `{}`: looked up, not on Civitai. */
  NotFound = 'not_found',
  Unknown = 'unknown',
}

export enum PreviewSource {
  File = 'file',
  /** In the header (`modelspec.thumbnail`, `modelspec.preview_image`, `ssmd_cover_images`). */
  Embedded = 'embedded',
  /** A remote URL from a sidecar (Civitai image); download once, subject to the NSFW policy. */
  Remote = 'remote',
}

export interface AdapterPreview {
  source: PreviewSource;
  /** File path as given to `mergeFacts` (source `file`). */
  path?: string;
  /** Header key (source `embedded`). */
  key?: string;
  /** URL (source `remote`). */
  url?: string;
  contentType?: string;
  /** NSFW bitmask when the source knows it; otherwise unknown, not "safe". */
  nsfwLevel?: number;
}

export interface AdapterHashes {
  sha256?: string;
  autoV1?: string;
  autoV2?: string;
  /** Full tensor (addnet) hash, 64 hex. */
  tensorSha256?: string;
  autoV3?: string;
  blake3?: string;
  crc32?: string;
}

export interface AdapterFacts {
  name: string;
  versionName?: string;
  description?: string;
  versionDescription?: string;
  creator?: string;
  notes?: string;
  civitai: CivitaiRef & { lookup: CivitaiLookupState };
  baseModel: string;
  baseModelInfo: NormalisedBaseModel;
  /** Civitai model type spelling (`LORA`, `LoCon`, `DoRA`, …). */
  modelType?: string;
  loraKind: LoraKind;
  tags: string[];
  trainedWords: string[];
  /** From `ss_tag_frequency`: suggestions only, never confirmed triggers. */
  triggerSuggestions: TagCount[];
  activationText?: string;
  negativeText?: string;
  preferredWeight?: number;
  weightMin?: number;
  weightMax?: number;
  nsfwLevel?: number;
  nsfw?: boolean;
  stats?: SidecarStats;
  license?: LicenseFlags;
  favorite?: boolean;
  createdAt?: string;
  publishedAt?: string;
  updatedAt?: string;
  /** Training start (`ss_training_started_at`) or `modelspec.date`. */
  trainedAt?: string;
  hashes: AdapterHashes;
  /** Where each hash came from. */
  hashSources: Partial<Record<keyof AdapterHashes, FactSource>>;
  /** True when `sha256` was computed from the bytes (a sidecar's claim is never trusted for identity). */
  sha256Verified: boolean;
  /** The Civitai file entry tied to this file, from the highest-precedence sidecar that has one. */
  primaryFile?: SidecarFileEntry;
  preview?: AdapterPreview;
  /** Convenience: `preview.path` when the preview is a file. */
  previewPath?: string;
  images: SidecarImage[];
  headerMetadata: Record<string, string>;
  header?: {
    headerLength: number;
    dataOffset: number;
    tensorCount: number;
    dtypes: string[];
    networkModule?: string;
    networkDim?: number;
    networkAlpha?: number;
  };
  sidecars: Array<{ kind: SidecarKind; fileName?: string; path?: string; size?: number; mtimeMs?: number }>;
  /** Unmapped sidecar fields, per sidecar kind. */
  unmapped: Partial<Record<SidecarKind, Record<string, unknown>>>;
  fieldSources: Partial<Record<string, FactSource>>;
  warnings: string[];
}

export interface MergeOptions {
  /** The LoRA's file name: the last-resort display name. */
  fileName?: string;
  /** The preview file found next to the LoRA (see `findPreview`), with its path as the caller stores it. */
  preview?: { path: string; contentType: string };
}

/** What the sidecars say about each field: the value of the first sidecar, in precedence order, that has one. */
interface PickedFields {
  name: string | undefined;
  description: string | undefined;
  creator: string | undefined;
  tags: string[] | undefined;
  trainedWords: string[] | undefined;
  preferredWeight: number | undefined;
  civitaiDeleted: boolean | undefined;
  air: string | undefined;
  modelType: string | undefined;
  nsfwLevel: number | undefined;
  nsfw: boolean | undefined;
  license: LicenseFlags | undefined;
  previewNsfwLevel: number | undefined;
  previewUrl: string | undefined;
  images: SidecarImage[] | undefined;
  versionName: string | undefined;
  versionDescription: string | undefined;
  notes: string | undefined;
  activationText: string | undefined;
  negativeText: string | undefined;
  weightMin: number | undefined;
  weightMax: number | undefined;
  stats: SidecarStats | undefined;
  favorite: boolean | undefined;
  createdAt: string | undefined;
  publishedAt: string | undefined;
  updatedAt: string | undefined;
  primaryFile: SidecarFileEntry | undefined;
}

/** Presence by type: text that is not blank, a list that is not empty, any other value that is set. */
const hasText = (v: string | undefined): boolean => v !== undefined && v !== null && v.trim() !== '';
const hasItems = (v: readonly unknown[] | undefined): boolean => v !== undefined && v !== null && v.length > 0;
const isSet = (v: unknown): boolean => v !== undefined && v !== null;

/** Presence of a value of any type; `pickFields` calls the typed checks directly (a small check per field). */
function present(v: unknown): boolean {
  if (typeof v === 'string') return hasText(v);
  if (Array.isArray(v)) return hasItems(v);
  return isSet(v);
}

/** A preview in its one shape (see facts.ts). */
function previewOf(source: PreviewSource, p: Omit<AdapterPreview, 'source'>): AdapterPreview {
  return { source, path: p.path, key: p.key, url: p.url, contentType: p.contentType, nsfwLevel: p.nsfwLevel };
}

function headerString(meta: Readonly<Record<string, string>>, ...keys: string[]): [string, string] | undefined {
  for (const k of keys) {
    const v = meta[k]?.trim();
    if (v && v !== 'None') return [v, k];
  }
  return undefined;
}

/** Every hash key, each undefined: one object shape whatever the sources (see facts.ts). */
function everyHashKey<T>(): { [K in keyof AdapterHashes]: T | undefined } {
  return {
    sha256: undefined,
    autoV1: undefined,
    autoV2: undefined,
    tensorSha256: undefined,
    autoV3: undefined,
    blake3: undefined,
    crc32: undefined,
  };
}

/**
 * Every field the sidecars may give, in one pass: the sidecars are visited from the lowest precedence to the
 * highest, so the last present value written is the highest-precedence one. Written out field by field: one
 * loop of plain property reads keeps this hot function cheap for V8 to optimise (a getter per field did not).
 */
function pickFields(
  ordered: readonly SidecarFacts[],
  contradicted: ReadonlySet<SidecarFacts>,
  sources: Partial<Record<string, FactSource>>,
): PickedFields {
  const p: PickedFields = {
    name: undefined,
    description: undefined,
    creator: undefined,
    tags: undefined,
    trainedWords: undefined,
    preferredWeight: undefined,
    civitaiDeleted: undefined,
    air: undefined,
    modelType: undefined,
    nsfwLevel: undefined,
    nsfw: undefined,
    license: undefined,
    previewNsfwLevel: undefined,
    previewUrl: undefined,
    images: undefined,
    versionName: undefined,
    versionDescription: undefined,
    notes: undefined,
    activationText: undefined,
    negativeText: undefined,
    weightMin: undefined,
    weightMax: undefined,
    stats: undefined,
    favorite: undefined,
    createdAt: undefined,
    publishedAt: undefined,
    updatedAt: undefined,
    primaryFile: undefined,
  };
  for (let i = ordered.length - 1; i >= 0; i--) {
    const s = ordered[i];
    if (hasText(s.name)) {
      p.name = s.name;
      sources['name'] = s.kind;
    }
    if (hasText(s.description)) {
      p.description = s.description;
      sources['description'] = s.kind;
    }
    if (hasText(s.creator)) {
      p.creator = s.creator;
      sources['creator'] = s.kind;
    }
    if (hasItems(s.tags)) {
      p.tags = s.tags;
      sources['tags'] = s.kind;
    }
    if (hasItems(s.trainedWords)) {
      p.trainedWords = s.trainedWords;
      sources['trainedWords'] = s.kind;
    }
    if (isSet(s.preferredWeight)) {
      p.preferredWeight = s.preferredWeight;
      sources['preferredWeight'] = s.kind;
    }
    const civitaiDeleted = s.civitai?.deleted;
    if (isSet(civitaiDeleted)) {
      p.civitaiDeleted = civitaiDeleted;
      sources['civitaiDeleted'] = s.kind;
    }
    const air = s.civitai?.air;
    if (hasText(air)) {
      p.air = air;
      sources['air'] = s.kind;
    }
    if (hasText(s.modelType)) {
      p.modelType = s.modelType;
      sources['modelType'] = s.kind;
    }
    if (isSet(s.nsfwLevel)) {
      p.nsfwLevel = s.nsfwLevel;
      sources['nsfwLevel'] = s.kind;
    }
    if (isSet(s.nsfw)) {
      p.nsfw = s.nsfw;
      sources['nsfw'] = s.kind;
    }
    if (isSet(s.license)) {
      p.license = s.license;
      sources['license'] = s.kind;
    }
    if (isSet(s.previewNsfwLevel)) {
      p.previewNsfwLevel = s.previewNsfwLevel;
      sources['previewNsfwLevel'] = s.kind;
    }
    if (hasText(s.previewUrl)) {
      p.previewUrl = s.previewUrl;
      sources['preview'] = s.kind;
    }
    if (hasItems(s.images)) {
      p.images = s.images;
      sources['images'] = s.kind;
    }
    if (hasText(s.versionName)) {
      p.versionName = s.versionName;
      sources['versionName'] = s.kind;
    }
    if (hasText(s.versionDescription)) {
      p.versionDescription = s.versionDescription;
      sources['versionDescription'] = s.kind;
    }
    if (hasText(s.notes)) {
      p.notes = s.notes;
      sources['notes'] = s.kind;
    }
    if (hasText(s.activationText)) {
      p.activationText = s.activationText;
      sources['activationText'] = s.kind;
    }
    if (hasText(s.negativeText)) {
      p.negativeText = s.negativeText;
      sources['negativeText'] = s.kind;
    }
    if (isSet(s.weightMin)) {
      p.weightMin = s.weightMin;
      sources['weightMin'] = s.kind;
    }
    if (isSet(s.weightMax)) {
      p.weightMax = s.weightMax;
      sources['weightMax'] = s.kind;
    }
    if (isSet(s.stats)) {
      p.stats = s.stats;
      sources['stats'] = s.kind;
    }
    if (isSet(s.favorite)) {
      p.favorite = s.favorite;
      sources['favorite'] = s.kind;
    }
    if (hasText(s.createdAt)) {
      p.createdAt = s.createdAt;
      sources['createdAt'] = s.kind;
    }
    if (hasText(s.publishedAt)) {
      p.publishedAt = s.publishedAt;
      sources['publishedAt'] = s.kind;
    }
    if (hasText(s.updatedAt)) {
      p.updatedAt = s.updatedAt;
      sources['updatedAt'] = s.kind;
    }
    const primaryFile = contradicted.has(s) ? undefined : s.primaryFile;
    if (isSet(primaryFile)) {
      p.primaryFile = primaryFile;
      sources['primaryFile'] = s.kind;
    }
  }
  return p;
}

/** The sidecars in precedence order, highest first. */
function byPrecedence(sidecars: readonly SidecarFacts[]): SidecarFacts[] {
  const rank = (k: SidecarKind): number => {
    const i = SIDECAR_PRECEDENCE.indexOf(k);
    return i < 0 ? SIDECAR_PRECEDENCE.length : i;
  };
  return [...sidecars].sort((a, b) => rank(a.kind) - rank(b.kind));
}

interface MergedHashes {
  hashes: AdapterHashes;
  hashSources: AdapterFacts['hashSources'];
  /** Sidecars whose SHA256 contradicts the file's: none of their file entry is taken. */
  contradicted: Set<SidecarFacts>;
}

/** Hashes: the file wins over every claim; a sidecar that contradicts it gives none, and a warning. */
function mergeHashes(
  meta: Readonly<Record<string, string>>,
  ordered: readonly SidecarFacts[],
  fileHashes: FileHashes | null | undefined,
  warnings: string[],
): MergedHashes {
  const headerHash = autoV3FromHeader(meta);
  const computedTensor = fileHashes?.tensorSha256;
  const contradicted = new Set<SidecarFacts>();
  for (const s of ordered) {
    const h = s.primaryFile?.hashes;
    if (!h) continue;
    if (fileHashes && h.sha256 !== undefined && h.sha256 !== fileHashes.sha256) {
      contradicted.add(s);
      const sameWeights = computedTensor !== undefined && h.autoV3 !== undefined && computedTensor.startsWith(h.autoV3);
      warnings.push(
        `${s.kind}: SHA256 ${h.sha256} differs from the file's ${fileHashes.sha256}; the file wins` +
          (sameWeights ? ' (same tensor hash: only the header differs)' : ''),
      );
    } else if (computedTensor !== undefined && h.autoV3 !== undefined && !computedTensor.startsWith(h.autoV3)) {
      warnings.push(
        `${s.kind}: AutoV3 ${h.autoV3} differs from the file's ${computedTensor.slice(0, 12)}; the file wins`,
      );
    }
  }
  const hashes: AdapterHashes = everyHashKey<string>();
  const hashSources: AdapterFacts['hashSources'] = everyHashKey<FactSource>();
  const setHash = (k: keyof AdapterHashes, v: string | undefined, src: FactSource): void => {
    if (v !== undefined && hashes[k] === undefined) {
      hashes[k] = v;
      hashSources[k] = src;
    }
  };
  if (fileHashes) {
    setHash('sha256', fileHashes.sha256, FactOrigin.Computed);
    setHash('autoV2', fileHashes.autoV2, FactOrigin.Computed);
    setHash('autoV1', fileHashes.autoV1, FactOrigin.Computed);
    setHash('tensorSha256', fileHashes.tensorSha256, FactOrigin.Computed);
    setHash('autoV3', fileHashes.autoV3, FactOrigin.Computed);
  }
  if (headerHash) {
    if (computedTensor !== undefined && computedTensor !== headerHash.tensorSha256) {
      warnings.push(
        `header: ${headerHash.source} ${headerHash.tensorSha256} is stale; the computed tensor hash is ${computedTensor}`,
      );
    }
    setHash('tensorSha256', headerHash.tensorSha256, FactOrigin.Header);
    setHash('autoV3', headerHash.autoV3, FactOrigin.Header);
  }
  for (const s of ordered) {
    const h: HashSet | undefined = s.primaryFile?.hashes;
    if (!h || contradicted.has(s)) continue;
    // Whole-file hashes only from a sidecar whose SHA256 agrees with the file (or when none was computed).
    setHash('sha256', h.sha256, s.kind);
    setHash('autoV2', h.autoV2, s.kind);
    setHash('blake3', h.blake3, s.kind);
    setHash('crc32', h.crc32, s.kind);
    if (computedTensor === undefined || (h.autoV3 !== undefined && computedTensor.startsWith(h.autoV3)))
      setHash('autoV3', h.autoV3, s.kind);
  }
  if (hashes.sha256 !== undefined && hashes.autoV2 === undefined)
    setHash('autoV2', hashes.sha256.slice(0, 10), hashSources.sha256 ?? FactOrigin.Computed);
  return { hashes, hashSources, contradicted };
}

/** A sidecar's value, else the header's (recorded as the field's source), else nothing. */
function fromHeader<T>(
  fieldSources: Partial<Record<string, FactSource>>,
  field: string,
  current: T | undefined,
  value: T | undefined,
): T | undefined {
  if (present(current) || !present(value)) return current;
  fieldSources[field] = FactOrigin.Header;
  return value;
}

/** The descriptive fields a header can give when no sidecar does; the name falls back to the file's. */
function describedFields(
  picked: PickedFields,
  header: SafetensorsHeader | null | undefined,
  fileName: string | undefined,
  fieldSources: Partial<Record<string, FactSource>>,
): Pick<AdapterFacts, 'name' | 'description' | 'creator' | 'tags' | 'trainedWords' | 'preferredWeight'> {
  const meta = header?.metadata ?? {};
  let name = fromHeader(
    fieldSources,
    'name',
    picked.name,
    headerString(meta, 'modelspec.title', 'ssmd_display_name', 'ss_output_name')?.[0],
  );
  if (name === undefined) {
    name = fileName ? stemOf(fileName) : header?.path ? stemOf(header.path.split(/[\\/]/).pop() ?? '') : 'unnamed';
    fieldSources['name'] = FactOrigin.FileName;
  }
  const description = fromHeader(
    fieldSources,
    'description',
    picked.description,
    headerString(meta, 'modelspec.description', 'ssmd_description', 'ss_training_comment')?.[0],
  );
  const creator = fromHeader(
    fieldSources,
    'creator',
    picked.creator,
    headerString(meta, 'modelspec.author', 'ssmd_author')?.[0],
  );
  const headerTags = headerString(meta, 'modelspec.tags', 'ssmd_tags');
  const tags = uniqueStrings(
    fromHeader(fieldSources, 'tags', picked.tags, headerTags ? splitList(headerTags[0]) : undefined) ?? [],
  );
  const headerTriggers = headerString(meta, 'modelspec.trigger_phrase', 'ssmd_keywords');
  const trainedWords = uniqueStrings(
    fromHeader(
      fieldSources,
      'trainedWords',
      picked.trainedWords,
      headerTriggers ? splitList(headerTriggers[0]) : undefined,
    ) ?? [],
  );
  const preferredWeight = fromHeader(
    fieldSources,
    'preferredWeight',
    picked.preferredWeight,
    asNumber(meta['modelspec.lora_default_weight']),
  );
  return { name, description, creator, tags, trainedWords, preferredWeight };
}

/** The Civitai reference: version and model from the same sidecar where possible; disagreements are warnings. */
function civitaiReference(
  ordered: readonly SidecarFacts[],
  picked: PickedFields,
  fieldSources: Partial<Record<string, FactSource>>,
  warnings: string[],
): AdapterFacts['civitai'] {
  const idSource =
    ordered.find((s) => s.civitai?.versionId !== undefined) ?? ordered.find((s) => s.civitai?.modelId !== undefined);
  const ref = idSource?.civitai;
  // One literal: a spread, or fields written twice, would give each object its own hidden class (see facts.ts).
  const civitai: AdapterFacts['civitai'] = {
    modelId:
      ref?.modelId ?? (ref ? ordered.find((s) => s.civitai?.modelId !== undefined)?.civitai?.modelId : undefined),
    versionId: ref?.versionId,
    air: ref?.air,
    deleted: ref?.deleted,
    lookup: ref
      ? CivitaiLookupState.Found
      : ordered.some((s) => s.civitaiNotFound)
        ? CivitaiLookupState.NotFound
        : CivitaiLookupState.Unknown,
  };
  if (idSource && ref) {
    fieldSources['civitai'] = idSource.kind;
    for (const s of ordered) {
      const v = s.civitai?.versionId;
      if (v !== undefined && civitai.versionId !== undefined && v !== civitai.versionId) {
        warnings.push(
          `${s.kind}: Civitai version ${v} differs from ${civitai.versionId} (${idSource.kind}); kept ${idSource.kind}`,
        );
      }
    }
  }
  if (picked.civitaiDeleted !== undefined) civitai.deleted = picked.civitaiDeleted;
  if (picked.air !== undefined) civitai.air ??= picked.air;
  return civitai;
}

const CIVITAI_SPELLING_KINDS: readonly SidecarKind[] = [
  SidecarKind.LoraManagerMetadata,
  SidecarKind.CmInfo,
  SidecarKind.CivitaiInfo,
  SidecarKind.SdnextJson,
];

/**
 * The base model: Civitai-spelled sidecar values, then A1111's hint, then the header, then SwarmUI's
 * architecture. When it is less than a fact, a warning says so (the user can set it through the API).
 */
function mergeBaseModel(
  ordered: readonly SidecarFacts[],
  header: SafetensorsHeader | null | undefined,
  fieldSources: Partial<Record<string, FactSource>>,
  warnings: string[],
): NormalisedBaseModel {
  const meta = header?.metadata ?? {};
  const bmSidecar = ordered.find((s) => CIVITAI_SPELLING_KINDS.includes(s.kind) && present(s.baseModelRaw));
  const a1111 = ordered.find((s) => s.kind === SidecarKind.A1111Json && present(s.baseModelRaw));
  let info = normaliseBaseModel({ civitai: bmSidecar?.baseModelRaw, sdVersion: a1111?.baseModelRaw, header: meta });
  const swarm = ordered.find((s) => s.kind === SidecarKind.SwarmJson && present(s.baseModel));
  if (info.source === BaseModelSource.None && swarm?.baseModel) {
    info = {
      value: swarm.baseModel,
      known: true,
      source: BaseModelSource.Header,
      evidence: `swarm.json ${swarm.baseModelRaw ?? ''}`.trim(),
    };
    fieldSources['baseModel'] = SidecarKind.SwarmJson;
  } else {
    fieldSources['baseModel'] =
      info.source === BaseModelSource.Civitai && bmSidecar
        ? bmSidecar.kind
        : info.source === BaseModelSource.SdVersionHint
          ? SidecarKind.A1111Json
          : FactOrigin.Header;
  }
  if (info.value === (BaseModel.Unknown as string)) delete fieldSources['baseModel'];
  const evidence = info.evidence ? ` (${info.evidence})` : '';
  if (info.guessed) warnings.push(`Base model ${info.value} is a guess${evidence}`);
  else if (info.ambiguous)
    warnings.push(`Base model ${info.value} may be a variant the source cannot tell apart${evidence}`);
  else if (!info.known) warnings.push(`Base model "${info.value}" is not in the vocabulary; kept as given`);
  if (bmSidecar && info.source === BaseModelSource.Civitai && header) {
    const headerSays = normaliseBaseModel({ header: meta });
    if (
      headerSays.known &&
      headerSays.source === BaseModelSource.Header &&
      baseModelFamily(headerSays.value) !== baseModelFamily(info.value)
    ) {
      warnings.push(`Base model ${info.value} (${bmSidecar.kind}) disagrees with the header's ${headerSays.value}`);
    }
  }
  return info;
}

/** The preview: a file beside the LoRA, then an image embedded in the header, then a sidecar's remote image. */
function choosePreview(
  header: SafetensorsHeader | null | undefined,
  ordered: readonly SidecarFacts[],
  picked: PickedFields,
  file: MergeOptions['preview'],
  fieldSources: Partial<Record<string, FactSource>>,
): AdapterPreview | undefined {
  if (file) {
    fieldSources['preview'] = FactOrigin.PreviewFile;
    return previewOf(PreviewSource.File, { ...file, nsfwLevel: picked.previewNsfwLevel });
  }
  // The route serves the key stored here (`decodeEmbeddedPreview`).
  const embedded = header ? firstUsableEmbedded(header.embeddedImages) : undefined;
  if (embedded) {
    fieldSources['preview'] = FactOrigin.Header;
    return previewOf(PreviewSource.Embedded, { key: embedded.key, contentType: embedded.contentType });
  }
  const url = picked.previewUrl;
  if (url === undefined) return undefined;
  const img = ordered.flatMap((s) => s.images ?? []).find((i) => i.url === url);
  return previewOf(PreviewSource.Remote, { url, nsfwLevel: img?.nsfwLevel });
}

export function mergeFacts(
  header: SafetensorsHeader | null | undefined,
  sidecars: readonly SidecarFacts[],
  fileHashes?: FileHashes | null,
  opts: MergeOptions = {},
): AdapterFacts {
  const ordered = byPrecedence(sidecars);
  const meta = header?.metadata ?? {};
  const warnings: string[] = [];
  const fieldSources: Partial<Record<string, FactSource>> = {};
  for (const w of header?.warnings ?? []) warnings.push(`header: ${w}`);
  for (const s of ordered) for (const w of s.warnings) warnings.push(`${s.kind}: ${w}`);

  const { hashes, hashSources, contradicted } = mergeHashes(meta, ordered, fileHashes, warnings);
  const picked = pickFields(ordered, contradicted, fieldSources);
  const described = describedFields(picked, header, opts.fileName, fieldSources);
  const civitai = civitaiReference(ordered, picked, fieldSources, warnings);
  const baseModelInfo = mergeBaseModel(ordered, header, fieldSources, warnings);

  const loraKind = header?.loraKind.kind ?? LoraKind.Unknown;
  let modelType = picked.modelType;
  if (modelType === undefined && CIVITAI_TYPE_BY_KIND[loraKind] !== undefined) {
    modelType = CIVITAI_TYPE_BY_KIND[loraKind];
    fieldSources['modelType'] = FactOrigin.Header;
  }
  // Old answers carry only a boolean: it still says PG or not, which "unrated" would hide.
  const nsfwLevel = picked.nsfwLevel ?? (picked.nsfw === undefined ? undefined : levelOfNsfwFlag(picked.nsfw));
  const nsfw = picked.nsfw ?? (nsfwLevel !== undefined && nsfwLevel !== 0 ? isNsfwLevel(nsfwLevel) : undefined);
  let license = picked.license;
  const licenseText = headerString(meta, 'modelspec.license')?.[0];
  if (licenseText !== undefined && license?.license === undefined)
    license = licenseFlags({ license: licenseText }, license);
  const preview = choosePreview(header, ordered, picked, opts.preview, fieldSources);
  const trainedAt =
    asIsoDate(meta['ss_training_started_at']) ??
    (meta['modelspec.date'] !== undefined ? asIsoDate(meta['modelspec.date']) : undefined);
  return assembleFacts(header, ordered, fileHashes, {
    picked,
    described,
    civitai,
    baseModelInfo,
    loraKind,
    modelType,
    nsfwLevel,
    nsfw,
    license,
    preview,
    trainedAt,
    hashes,
    hashSources,
    fieldSources,
    warnings,
  });
}

/** What the steps of `mergeFacts` found, for `assembleFacts`. */
interface MergedParts extends Pick<
  AdapterFacts,
  | 'civitai'
  | 'baseModelInfo'
  | 'loraKind'
  | 'modelType'
  | 'nsfwLevel'
  | 'nsfw'
  | 'license'
  | 'preview'
  | 'trainedAt'
  | 'hashes'
  | 'hashSources'
  | 'fieldSources'
  | 'warnings'
> {
  picked: PickedFields;
  described: ReturnType<typeof describedFields>;
}

/** The facts in their one shape: every field written, in one order, whatever the sources (see facts.ts). */
function assembleFacts(
  header: SafetensorsHeader | null | undefined,
  ordered: readonly SidecarFacts[],
  fileHashes: FileHashes | null | undefined,
  parts: MergedParts,
): AdapterFacts {
  const { picked, described, civitai, baseModelInfo, loraKind, hashes, hashSources, fieldSources, warnings } = parts;
  const meta = header?.metadata ?? {};
  const facts: AdapterFacts = {
    name: described.name,
    civitai,
    baseModel: baseModelInfo.value,
    baseModelInfo,
    loraKind,
    tags: described.tags,
    trainedWords: described.trainedWords,
    triggerSuggestions: header?.tagFrequency ?? [],
    hashes,
    hashSources,
    sha256Verified: fileHashes !== undefined && fileHashes !== null,
    images: picked.images ?? [],
    headerMetadata: { ...meta },
    sidecars: ordered.map((s) => ({
      kind: s.kind,
      fileName: s.file?.fileName,
      path: s.file?.path,
      size: s.file?.size,
      mtimeMs: s.file?.mtimeMs,
    })),
    unmapped: {},
    fieldSources,
    warnings,
  };
  // Every optional field is set, undefined or not: one object shape for every file keeps its readers optimised.
  const optional: Partial<AdapterFacts> = {
    versionName: picked.versionName,
    description: described.description,
    versionDescription: picked.versionDescription,
    creator: described.creator,
    notes: picked.notes,
    modelType: parts.modelType,
    activationText: picked.activationText,
    negativeText: picked.negativeText,
    preferredWeight: described.preferredWeight,
    weightMin: picked.weightMin,
    weightMax: picked.weightMax,
    nsfwLevel: parts.nsfwLevel,
    nsfw: parts.nsfw,
    stats: picked.stats,
    license: parts.license,
    favorite: picked.favorite,
    createdAt: picked.createdAt,
    publishedAt: picked.publishedAt,
    updatedAt: picked.updatedAt,
    trainedAt: parts.trainedAt,
    primaryFile: picked.primaryFile,
    preview: parts.preview,
    previewPath: parts.preview?.source === PreviewSource.File ? parts.preview.path : undefined,
    header: undefined,
  };
  Object.assign(facts, optional);
  if (header) facts.header = headerSummary(header);
  for (const s of ordered) {
    if (Object.keys(s.unmapped).length > 0) facts.unmapped[s.kind] = { ...facts.unmapped[s.kind], ...s.unmapped };
  }
  return facts;
}

function headerSummary(header: SafetensorsHeader): NonNullable<AdapterFacts['header']> {
  return {
    headerLength: header.headerLength,
    dataOffset: header.dataOffset,
    tensorCount: header.tensorCount,
    dtypes: header.dtypes,
    networkModule: header.loraKind.networkModule,
    networkDim: asNumber(header.metadata['ss_network_dim']),
    networkAlpha: asNumber(header.metadata['ss_network_alpha']),
  };
}
