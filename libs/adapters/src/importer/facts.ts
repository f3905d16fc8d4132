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

export function emptyFacts(kind: SidecarKind): SidecarFacts {
  return { kind, tags: [], trainedWords: [], unmapped: {}, warnings: [] };
}
