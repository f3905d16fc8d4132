// The normalised shape every sidecar reader returns (LORA-FORMATS §4), and its error type.

export enum SidecarKind {
  /** `<stem>.civitai.info`: one Civitai model-version JSON (Civitai Helper). */
  CivitaiInfo = 'civitai-info',
  /** `<stem>.json` written by A1111's user-metadata editor (and Civitai Helper fork, civbrowser+). */
  A1111Json = 'a1111-json',
  /** `<stem>.json` written by SD.Next: a Civitai `/models/{id}` payload with `modelVersions[]`. */
  SdnextJson = 'sdnext-json',
  /** `<stem>.metadata.json`: ComfyUI-Lora-Manager. */
  LoraManagerMetadata = 'lora-manager-metadata',
  /** `<stem>.cm-info.json`: StabilityMatrix `ConnectedModelInfo`. */
  CmInfo = 'cm-info',
  /** `<stem>.swarm.json`: SwarmUI, `modelspec.`-prefixed keys. */
  SwarmJson = 'swarm-json',
  /** `<stem>.txt` / `<stem>.description.txt`: plain-text description (SD.Next, A1111). */
  DescriptionText = 'description-text',
}

/** How strongly a Civitai file entry was tied to the local file (LORA-FORMATS §5). */
export enum MatchStrength {
  Exact = 'exact',
  Strong = 'strong',
  Medium = 'medium',
  Weak = 'weak',
  /** No evidence: e.g. the primary file of a single-version sidecar taken on trust. */
  None = 'none',
}

export enum MatchEvidence {
  Sha256 = 'sha256',
  Blake3 = 'blake3',
  AutoV3 = 'autov3',
  AutoV2 = 'autov2',
  Crc32 = 'crc32',
  AutoV1 = 'autov1',
  FileName = 'file_name',
  FileStem = 'file_stem',
  Size = 'size',
  /** The file marked `primary` (LoRA-Manager's rule), without other evidence. */
  Primary = 'primary',
  /** The only weight file listed. */
  Only = 'only',
}

/** Hash values, all lower-case hex. */
export interface HashSet {
  sha256?: string;
  autoV1?: string;
  autoV2?: string;
  autoV3?: string;
  blake3?: string;
  crc32?: string;
}

export interface SidecarFileEntry {
  id?: number;
  name?: string;
  sizeKB?: number;
  /** Civitai file type: `Model`, `Pruned Model`, … */
  type?: string;
  primary?: boolean;
  hashes: HashSet;
  downloadUrl?: string;
  /** fp16 / bf16 / fp32, safetensors / pickle, from Civitai `metadata`. */
  format?: string;
  fp?: string;
  match?: { strength: MatchStrength; by: MatchEvidence };
}

export interface SidecarStats {
  downloads?: number;
  /** Civitai `thumbsUpCount` (likes). */
  likes?: number;
  dislikes?: number;
  rating?: number;
  ratingCount?: number;
  favorites?: number;
  comments?: number;
}

export interface LicenseFlags {
  allowNoCredit?: boolean;
  /** Civitai `allowCommercialUse`: an array now (`Image`, `Video`, `RentCivit`, `Rent`, `Sell`); a string in older answers. */
  allowCommercialUse?: string[];
  allowDerivatives?: boolean;
  allowDifferentLicense?: boolean;
  /** Free-text license (`modelspec.license`). */
  license?: string;
}

export interface SidecarImage {
  url: string;
  nsfwLevel?: number;
  width?: number;
  height?: number;
  /** `image` or `video`. */
  type?: string;
  /** Generation parameters (`prompt`, `negativePrompt`, `seed`, …) as Civitai gives them. */
  meta?: Record<string, unknown>;
}

export interface CivitaiRef {
  modelId?: number;
  versionId?: number;
  /** `urn:air:…` resource id, kept raw. */
  air?: string;
  /** LoRA-Manager `civitai_deleted`: the model is gone from Civitai. */
  deleted?: boolean;
}

export interface SidecarFacts {
  kind: SidecarKind;
  /** Set by `readSidecar`: where it came from and its stat, for change detection. */
  file?: { path: string; fileName: string; size: number; mtimeMs: number };
  /** `.civitai.info` holding `{}`: looked up, not on Civitai (store as a negative lookup). */
  civitaiNotFound?: boolean;
  name?: string;
  versionName?: string;
  /** Model-level description (HTML for Civitai sources). */
  description?: string;
  /** Version-level description. */
  versionDescription?: string;
  creator?: string;
  civitai?: CivitaiRef;
  /** Normalised base model (`BaseModel` value, or the raw string when not in the vocabulary). */
  baseModel?: string;
  /** The base-model string exactly as the sidecar wrote it. */
  baseModelRaw?: string;
  /** Civitai model type spelling: `LORA`, `LoCon`, `DoRA`, … */
  modelType?: string;
  tags: string[];
  /** Trigger words the source presents as such (Civitai `trainedWords`, activation text split). */
  trainedWords: string[];
  /** A1111 activation text, verbatim. */
  activationText?: string;
  /** A1111 negative text. */
  negativeText?: string;
  notes?: string;
  preferredWeight?: number;
  weightMin?: number;
  weightMax?: number;
  /** Civitai bitmask (§9): 1 PG, 2 PG-13, 4 R, 8 X, 16 XXX, 32 Blocked; 0 = unrated. */
  nsfwLevel?: number;
  /** Boolean NSFW flag for sources that have no level. */
  nsfw?: boolean;
  /** LoRA-Manager `preview_nsfw_level`. */
  previewNsfwLevel?: number;
  stats?: SidecarStats;
  license?: LicenseFlags;
  favorite?: boolean;
  createdAt?: string;
  publishedAt?: string;
  updatedAt?: string;
  /** The Civitai file entry matched to the local file (or the only/primary one, with its match strength). */
  primaryFile?: SidecarFile;
  /** Remote preview candidate (first Civitai image, or a thumbnail URL). */
  previewUrl?: string;
  images?: SidecarImage[];
  /** Fields the reader did not map, kept raw. */
  unmapped: Record<string, unknown>;
  warnings: string[];
}

export type SidecarFile = SidecarFileEntry;

/** What a reader knows about the local file it is describing. Hashes may be any case. */
export interface SidecarContext {
  /** The LoRA's file name with extension, e.g. `my_style_v1.safetensors`. */
  fileName: string;
  sha256?: string;
  /** Tensor (addnet) hash, full 64 hex or the 12-hex AutoV3. */
  tensorSha256?: string;
  blake3?: string;
  crc32?: string;
  autoV1?: string;
  size?: number;
}

export enum SidecarErrorReason {
  Io = 'io_error',
  /** A FIFO, device, socket or directory under a sidecar's name (or a symlink to one): never read. */
  NotAFile = 'not_a_file',
  TooLarge = 'too_large',
  EmptyFile = 'empty_file',
  InvalidJson = 'invalid_json',
  NotAnObject = 'not_an_object',
  /** Valid JSON of a shape this kind of sidecar never has (e.g. a `.json` that is neither A1111 nor SD.Next). */
  UnrecognisedShape = 'unrecognised_shape',
}

export class SidecarError extends Error {
  override readonly name = 'SidecarError';

  constructor(
    readonly reason: SidecarErrorReason,
    message: string,
    readonly kind?: SidecarKind,
    readonly path?: string,
    options?: { cause?: unknown },
  ) {
    super(path ? `${message} (${path})` : message, options);
  }
}

// One shape per kind of object: each constructor below writes every field of its type, undefined or not, in one
// order, and readers assign fields instead of adding them, so the objects of an import share one hidden class per
// type and the code that reads them (merging, matching, building rows) stays optimised.

export function emptyFacts(kind: SidecarKind): SidecarFacts {
  return {
    kind,
    file: undefined,
    civitaiNotFound: undefined,
    name: undefined,
    versionName: undefined,
    description: undefined,
    versionDescription: undefined,
    creator: undefined,
    civitai: undefined,
    baseModel: undefined,
    baseModelRaw: undefined,
    modelType: undefined,
    tags: [],
    trainedWords: [],
    activationText: undefined,
    negativeText: undefined,
    notes: undefined,
    preferredWeight: undefined,
    weightMin: undefined,
    weightMax: undefined,
    nsfwLevel: undefined,
    nsfw: undefined,
    previewNsfwLevel: undefined,
    stats: undefined,
    license: undefined,
    favorite: undefined,
    createdAt: undefined,
    publishedAt: undefined,
    updatedAt: undefined,
    primaryFile: undefined,
    previewUrl: undefined,
    images: undefined,
    unmapped: {},
    warnings: [],
  };
}

export function hashSet(h: Readonly<HashSet> = {}): HashSet {
  return { sha256: h.sha256, autoV1: h.autoV1, autoV2: h.autoV2, autoV3: h.autoV3, blake3: h.blake3, crc32: h.crc32 };
}

export function hasAnyHash(h: Readonly<HashSet>): boolean {
  return (
    h.sha256 !== undefined ||
    h.autoV1 !== undefined ||
    h.autoV2 !== undefined ||
    h.autoV3 !== undefined ||
    h.blake3 !== undefined ||
    h.crc32 !== undefined
  );
}

export function fileEntry(hashes: HashSet, f: Readonly<Omit<SidecarFileEntry, 'hashes'>> = {}): SidecarFileEntry {
  return {
    id: f.id,
    name: f.name,
    sizeKB: f.sizeKB,
    type: f.type,
    primary: f.primary,
    hashes,
    downloadUrl: f.downloadUrl,
    format: f.format,
    fp: f.fp,
    match: f.match,
  };
}

export function civitaiRef(r: Readonly<CivitaiRef> = {}): CivitaiRef {
  return { modelId: r.modelId, versionId: r.versionId, air: r.air, deleted: r.deleted };
}

/** Stats in their one shape: `s`'s values, and `fallback`'s where `s` has none. */
export function sidecarStats(s: Readonly<SidecarStats>, fallback?: Readonly<SidecarStats>): SidecarStats {
  return {
    downloads: s.downloads ?? fallback?.downloads,
    likes: s.likes ?? fallback?.likes,
    dislikes: s.dislikes ?? fallback?.dislikes,
    rating: s.rating ?? fallback?.rating,
    ratingCount: s.ratingCount ?? fallback?.ratingCount,
    favorites: s.favorites ?? fallback?.favorites,
    comments: s.comments ?? fallback?.comments,
  };
}

/** License flags in their one shape: `l`'s values, and `fallback`'s where `l` has none. */
export function licenseFlags(l: Readonly<LicenseFlags>, fallback?: Readonly<LicenseFlags>): LicenseFlags {
  return {
    allowNoCredit: l.allowNoCredit ?? fallback?.allowNoCredit,
    allowCommercialUse: l.allowCommercialUse ?? fallback?.allowCommercialUse,
    allowDerivatives: l.allowDerivatives ?? fallback?.allowDerivatives,
    allowDifferentLicense: l.allowDifferentLicense ?? fallback?.allowDifferentLicense,
    license: l.license ?? fallback?.license,
  };
}
