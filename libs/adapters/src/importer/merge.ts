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
 * highest, so the last present value written is the highest-precedence one. One loop of plain property reads
 * (every `SidecarFacts` has one shape). A getter closure and a loop per field, inlined two dozen times into
 * `mergeFacts`, made it the importer's costliest function for V8 to optimise.
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

export function mergeFacts(
  header: SafetensorsHeader | null | undefined,
  sidecars: readonly SidecarFacts[],
  fileHashes?: FileHashes | null,
  opts: MergeOptions = {},
): AdapterFacts {
  const rank = (k: SidecarKind): number => {
    const i = SIDECAR_PRECEDENCE.indexOf(k);
    return i < 0 ? SIDECAR_PRECEDENCE.length : i;
  };
  const ordered = [...sidecars].sort((a, b) => rank(a.kind) - rank(b.kind));
  const meta = header?.metadata ?? {};
  const warnings: string[] = [];
  const fieldSources: Partial<Record<string, FactSource>> = {};

  for (const w of header?.warnings ?? []) warnings.push(`header: ${w}`);
  for (const s of ordered) for (const w of s.warnings) warnings.push(`${s.kind}: ${w}`);

  // --- Hashes: the file wins over every claim. ---------------------------------------------------
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

  // --- Field picking in precedence order. --------------------------------------------------------
  const picked = pickFields(ordered, contradicted, fieldSources);
  function fromHeader<T>(field: string, current: T | undefined, value: T | undefined): T | undefined {
    if (present(current) || !present(value)) return current;
    fieldSources[field] = FactOrigin.Header;
    return value;
  }

  const headerName = headerString(meta, 'modelspec.title', 'ssmd_display_name', 'ss_output_name');
  let name = fromHeader('name', picked.name, headerName?.[0]);
  if (name === undefined) {
    name = opts.fileName
      ? stemOf(opts.fileName)
      : header?.path
        ? stemOf(header.path.split(/[\\/]/).pop() ?? '')
        : 'unnamed';
    fieldSources['name'] = FactOrigin.FileName;
  }
  const description = fromHeader(
    'description',
    picked.description,
    headerString(meta, 'modelspec.description', 'ssmd_description', 'ss_training_comment')?.[0],
  );
  const creator = fromHeader('creator', picked.creator, headerString(meta, 'modelspec.author', 'ssmd_author')?.[0]);
  const headerTags = headerString(meta, 'modelspec.tags', 'ssmd_tags');
  const tags = uniqueStrings(fromHeader('tags', picked.tags, headerTags ? splitList(headerTags[0]) : undefined) ?? []);
  const headerTriggers = headerString(meta, 'modelspec.trigger_phrase', 'ssmd_keywords');
  const trainedWords = uniqueStrings(
    fromHeader('trainedWords', picked.trainedWords, headerTriggers ? splitList(headerTriggers[0]) : undefined) ?? [],
  );
  const preferredWeight = fromHeader(
    'preferredWeight',
    picked.preferredWeight,
    asNumber(meta['modelspec.lora_default_weight']),
  );

  // Civitai ids: version and model from the same sidecar where possible.
  const idSource =
    ordered.find((s) => s.civitai?.versionId !== undefined) ?? ordered.find((s) => s.civitai?.modelId !== undefined);
  const ref = idSource?.civitai;
  // Built in one literal: a spread, or fields written twice, gave each object its own hidden class.
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
  const deleted = picked.civitaiDeleted;
  if (deleted !== undefined) civitai.deleted = deleted;
  const air = picked.air;
  if (air !== undefined) civitai.air ??= air;

  // Base model: Civitai-spelled sidecar values, then A1111's hint, then the header, then SwarmUI's architecture.
  const civitaiKinds = [
    SidecarKind.LoraManagerMetadata,
    SidecarKind.CmInfo,
    SidecarKind.CivitaiInfo,
    SidecarKind.SdnextJson,
  ];
  const bmSidecar = ordered.find((s) => civitaiKinds.includes(s.kind) && present(s.baseModelRaw));
  const a1111 = ordered.find((s) => s.kind === SidecarKind.A1111Json && present(s.baseModelRaw));
  let baseModelInfo = normaliseBaseModel({
    civitai: bmSidecar?.baseModelRaw,
    sdVersion: a1111?.baseModelRaw,
    header: meta,
  });
  const swarm = ordered.find((s) => s.kind === SidecarKind.SwarmJson && present(s.baseModel));
  if (baseModelInfo.source === BaseModelSource.None && swarm?.baseModel) {
    baseModelInfo = {
      value: swarm.baseModel,
      known: true,
      source: BaseModelSource.Header,
      evidence: `swarm.json ${swarm.baseModelRaw ?? ''}`.trim(),
    };
    fieldSources['baseModel'] = SidecarKind.SwarmJson;
  } else {
    fieldSources['baseModel'] =
      baseModelInfo.source === BaseModelSource.Civitai && bmSidecar
        ? bmSidecar.kind
        : baseModelInfo.source === BaseModelSource.SdVersionHint
          ? SidecarKind.A1111Json
          : FactOrigin.Header;
  }
  if (baseModelInfo.value === (BaseModel.Unknown as string)) delete fieldSources['baseModel'];
  // Say when the base model is less than a fact, so the user knows to check it (and can set it through the API).
  const bmEvidence = baseModelInfo.evidence ? ` (${baseModelInfo.evidence})` : '';
  if (baseModelInfo.guessed) warnings.push(`Base model ${baseModelInfo.value} is a guess${bmEvidence}`);
  else if (baseModelInfo.ambiguous)
    warnings.push(`Base model ${baseModelInfo.value} may be a variant the source cannot tell apart${bmEvidence}`);
  else if (!baseModelInfo.known)
    warnings.push(`Base model "${baseModelInfo.value}" is not in the vocabulary; kept as given`);
  if (bmSidecar && baseModelInfo.source === BaseModelSource.Civitai && header) {
    const fromHeader = normaliseBaseModel({ header: meta });
    if (
      fromHeader.known &&
      fromHeader.source === BaseModelSource.Header &&
      baseModelFamily(fromHeader.value) !== baseModelFamily(baseModelInfo.value)
    ) {
      warnings.push(
        `Base model ${baseModelInfo.value} (${bmSidecar.kind}) disagrees with the header's ${fromHeader.value}`,
      );
    }
  }

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

  // --- Preview: file, then embedded, then remote. ------------------------------------------------
  let preview: AdapterPreview | undefined;
  const previewNsfw = picked.previewNsfwLevel;
  if (opts.preview) {
    preview = previewOf(PreviewSource.File, { ...opts.preview, nsfwLevel: previewNsfw });
    fieldSources['preview'] = FactOrigin.PreviewFile;
  } else {
    // The route serves the key stored here (`decodeEmbeddedPreview`).
    const embedded = header ? firstUsableEmbedded(header.embeddedImages) : undefined;
    if (embedded) {
      preview = previewOf(PreviewSource.Embedded, { key: embedded.key, contentType: embedded.contentType });
      fieldSources['preview'] = FactOrigin.Header;
    } else {
      const url = picked.previewUrl;
      if (url !== undefined) {
        const img = ordered.flatMap((s) => s.images ?? []).find((i) => i.url === url);
        preview = previewOf(PreviewSource.Remote, { url, nsfwLevel: img?.nsfwLevel });
      }
    }
  }

  const trainedAt =
    asIsoDate(meta['ss_training_started_at']) ??
    (meta['modelspec.date'] !== undefined ? asIsoDate(meta['modelspec.date']) : undefined);

  const facts: AdapterFacts = {
    name,
    civitai,
    baseModel: baseModelInfo.value,
    baseModelInfo,
    loraKind,
    tags,
    trainedWords,
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
  // Every optional field is set, undefined or not: one object shape for every file, so the code that reads
  // the facts stays optimised (objects of changing shapes made V8 throw its optimised code away and compile
  // it again).
  const optional: Partial<AdapterFacts> = {
    versionName: picked.versionName,
    description,
    versionDescription: picked.versionDescription,
    creator,
    notes: picked.notes,
    modelType,
    activationText: picked.activationText,
    negativeText: picked.negativeText,
    preferredWeight,
    weightMin: picked.weightMin,
    weightMax: picked.weightMax,
    nsfwLevel,
    nsfw,
    stats: picked.stats,
    license,
    favorite: picked.favorite,
    createdAt: picked.createdAt,
    publishedAt: picked.publishedAt,
    updatedAt: picked.updatedAt,
    trainedAt,
    primaryFile: picked.primaryFile,
    preview,
    previewPath: preview?.source === PreviewSource.File ? preview.path : undefined,
    header: undefined,
  };
  Object.assign(facts, optional);
  if (header) {
    facts.header = {
      headerLength: header.headerLength,
      dataOffset: header.dataOffset,
      tensorCount: header.tensorCount,
      dtypes: header.dtypes,
      networkModule: header.loraKind.networkModule,
      networkDim: asNumber(meta['ss_network_dim']),
      networkAlpha: asNumber(meta['ss_network_alpha']),
    };
  }
  for (const s of ordered) {
    if (Object.keys(s.unmapped).length > 0) facts.unmapped[s.kind] = { ...facts.unmapped[s.kind], ...s.unmapped };
  }
  return facts;
}
