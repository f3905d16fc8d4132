// One base-model vocabulary for every source (LORA-FORMATS §3.3): Civitai's `baseModel` spelling.
// Precedence: Civitai value of the matched version → A1111 `sd version` hint → header keys → Unknown.

/** Civitai `baseModel` values (as served by `GET /api/v1/enums`, which changes; unknown values are kept raw). */
export enum BaseModel {
  Sd14 = 'SD 1.4',
  Sd15 = 'SD 1.5',
  Sd15Lcm = 'SD 1.5 LCM',
  Sd15Hyper = 'SD 1.5 Hyper',
  Sd20 = 'SD 2.0',
  Sd20_768 = 'SD 2.0 768',
  Sd21 = 'SD 2.1',
  Sd21_768 = 'SD 2.1 768',
  Sd21Unclip = 'SD 2.1 Unclip',
  Sdxl09 = 'SDXL 0.9',
  Sdxl10 = 'SDXL 1.0',
  Sdxl10Lcm = 'SDXL 1.0 LCM',
  SdxlDistilled = 'SDXL Distilled',
  SdxlTurbo = 'SDXL Turbo',
  SdxlLightning = 'SDXL Lightning',
  SdxlHyper = 'SDXL Hyper',
  Pony = 'Pony',
  PonyV7 = 'Pony V7',
  Illustrious = 'Illustrious',
  NoobAI = 'NoobAI',
  Sd3 = 'SD 3',
  Sd35 = 'SD 3.5',
  Sd35Medium = 'SD 3.5 Medium',
  Sd35Large = 'SD 3.5 Large',
  Sd35LargeTurbo = 'SD 3.5 Large Turbo',
  Flux1S = 'Flux.1 S',
  Flux1D = 'Flux.1 D',
  Flux1Krea = 'Flux.1 Krea',
  Flux1Kontext = 'Flux.1 Kontext',
  Flux2D = 'Flux.2 D',
  Chroma = 'Chroma',
  Lumina = 'Lumina',
  Anima = 'Anima',
  Qwen = 'Qwen',
  HiDream = 'HiDream',
  AuraFlow = 'AuraFlow',
  StableCascade = 'Stable Cascade',
  Kolors = 'Kolors',
  Hunyuan1 = 'Hunyuan 1',
  HunyuanVideo = 'Hunyuan Video',
  WanVideo = 'Wan Video',
  PixArtA = 'PixArt a',
  PixArtE = 'PixArt E',
  PlaygroundV2 = 'Playground v2',
  Svd = 'SVD',
  SvdXt = 'SVD XT',
  Ltxv = 'LTXV',
  Mochi = 'Mochi',
  CogVideoX = 'CogVideoX',
  Odor = 'ODOR',
  Other = 'Other',
  Unknown = 'Unknown',
}

export const BASE_MODELS: readonly BaseModel[] = Object.values(BaseModel);

export enum BaseModelSource {
  Civitai = 'civitai',
  /** A1111 `.json` `sd version` (coarse: SD1/SD2/SDXL/SD3). */
  SdVersionHint = 'sd_version',
  Header = 'header',
  None = 'none',
}

export interface NormalisedBaseModel {
  /** A `BaseModel` value, or the raw string when it is not in the vocabulary (`known: false`). */
  value: string;
  known: boolean;
  source: BaseModelSource;
  /** Which key decided, e.g. `ss_base_model_version=sdxl_base_v1-0` or `baseModel=SDXL 1.0`. */
  evidence?: string;
  /** The source cannot tell the variants apart (SD 2.0 vs 2.1; SDXL vs Pony/Illustrious). */
  ambiguous?: boolean;
  /** Refined from a hint such as the base checkpoint's name; flag it in the UI. */
  guessed?: boolean;
}

export interface BaseModelInput {
  /** Civitai `baseModel` of the matched version (or a sidecar field holding that spelling). */
  civitai?: string | null;
  /** A1111 `.json` `sd version`. */
  sdVersion?: string | null;
  /** safetensors `__metadata__` (or SwarmUI `.swarm.json` keys with the `modelspec.` prefix). */
  header?: Readonly<Record<string, unknown>> | null;
}

const BY_LOWER = new Map<string, BaseModel>(BASE_MODELS.map((b) => [b.toLowerCase(), b]));

// Spellings seen in sidecars (LoRA-Manager, StabilityMatrix, hand-written files) and typed in filters → Civitai's.
// The one alias table: the importer normalises with it, and the `baseModel` filter resolves what users type by it.
const ALIASES: ReadonlyArray<[RegExp, BaseModel]> = [
  [/^(sd|stable[ _-]?diffusion)[ _-]?v?1[._-]?5$|^sd1$|^sd-v1-5$/, BaseModel.Sd15],
  [/^(sd|stable[ _-]?diffusion)[ _-]?v?1[._-]?4$/, BaseModel.Sd14],
  [/^(sd|stable[ _-]?diffusion)[ _-]?v?2[._-]?1$|^sd-v2-1$/, BaseModel.Sd21],
  [/^(sd|stable[ _-]?diffusion)[ _-]?v?2([._-]?0)?$/, BaseModel.Sd20],
  [/^(sd[ _-]?)?xl([ _-]?(1\.0|base))?$|^sdxl[ _-]?1$|^stable[ _-]?diffusion[ _-]?xl$/, BaseModel.Sdxl10],
  [/^pony([ _-]?(diffusion|xl|v6))*$|^pdxl$/, BaseModel.Pony],
  [/^pony[ _-]?v?7$/, BaseModel.PonyV7],
  [/^(illustrious|il)([ _-]?xl)?$/, BaseModel.Illustrious],
  [/^noob([ _-]?ai)?([ _-]?xl)?$/, BaseModel.NoobAI],
  [/^flux(\.?1)?[ _-]?(d|dev)$|^flux\.?1$|^flux$/, BaseModel.Flux1D],
  [/^flux(\.?1)?[ _-]?(s|schnell)$/, BaseModel.Flux1S],
  [/^flux\.?2([ _-]?(d|dev))?$/, BaseModel.Flux2D],
  [/^sd[ _-]?3[._-]?5$/, BaseModel.Sd35],
  [/^sd[ _-]?3([ _-]?medium)?$/, BaseModel.Sd3],
];

/** Civitai (or Civitai-like) spelling → vocabulary value; unknown strings come back raw with `known: false`. */
export function normaliseCivitaiBaseModel(raw: string): { value: string; known: boolean } {
  const trimmed = raw.trim().replace(/\s+/g, ' ');
  const exact = BY_LOWER.get(trimmed.toLowerCase());
  if (exact) return { value: exact, known: true };
  const lower = trimmed.toLowerCase();
  for (const [re, value] of ALIASES) if (re.test(lower)) return { value, known: true };
  return { value: trimmed, known: false };
}

const SD_VERSION: Readonly<Record<string, BaseModel>> = {
  sd1: BaseModel.Sd15,
  sd2: BaseModel.Sd21,
  sdxl: BaseModel.Sdxl10,
  sd3: BaseModel.Sd3,
};

type HeaderGuess = Omit<NormalisedBaseModel, 'source'>;

// modelspec.architecture prefixes (kohya `sai_model_spec.py determine_architecture`; both `/lora` and
// `-lora` suffixes), and SwarmUI compat classes. Most specific first.
const ARCHITECTURES: ReadonlyArray<[RegExp, BaseModel, boolean?]> = [
  [/^stable-diffusion-v1/, BaseModel.Sd15],
  [/^stable-diffusion-v2-768-v/, BaseModel.Sd21_768, true],
  [/^stable-diffusion-v2/, BaseModel.Sd21, true],
  [/^stable-diffusion-xl-v0[-_.]9/, BaseModel.Sdxl09],
  [/^stable-diffusion-xl/, BaseModel.Sdxl10, true],
  [/^stable-diffusion-3[-.]5-large-turbo/, BaseModel.Sd35LargeTurbo],
  [/^stable-diffusion-3[-.]5-large/, BaseModel.Sd35Large],
  [/^stable-diffusion-3[-.]5-medium/, BaseModel.Sd35Medium],
  [/^stable-diffusion-3[-.]5/, BaseModel.Sd35],
  [/^stable-diffusion-3/, BaseModel.Sd3],
  [/^stable-cascade/, BaseModel.StableCascade],
  [/^flux-1-schnell/, BaseModel.Flux1S],
  [/^flux-1-kontext/, BaseModel.Flux1Kontext],
  [/^flux-1-krea/, BaseModel.Flux1Krea],
  [/^flux-1/, BaseModel.Flux1D],
  [/^flux-?2/, BaseModel.Flux2D],
  [/^chroma/, BaseModel.Chroma],
  [/^lumina/, BaseModel.Lumina],
  [/^anima/, BaseModel.Anima],
  [/^hunyuan-video/, BaseModel.HunyuanVideo],
  [/^auraflow/, BaseModel.AuraFlow],
  [/^qwen-image/, BaseModel.Qwen],
  [/^hidream/, BaseModel.HiDream],
];

// ss_base_model_version values (kohya §3.1) and SD.Next's prefixes (§3.2).
const BASE_VERSIONS: ReadonlyArray<[RegExp, BaseModel, boolean?]> = [
  [/^sd_v1/, BaseModel.Sd15],
  [/^sd_v2_v/, BaseModel.Sd21_768, true],
  [/^sd_v2/, BaseModel.Sd21, true],
  [/^sdxl/, BaseModel.Sdxl10, true],
  [/^5-large-turbo$/, BaseModel.Sd35LargeTurbo],
  [/^5-large$/, BaseModel.Sd35Large],
  [/^5-medium$/, BaseModel.Sd35Medium],
  [/^(medium|sd3)/, BaseModel.Sd3],
  [/^stable_cascade/, BaseModel.StableCascade],
  [/^flux2/, BaseModel.Flux2D],
  [/^flux/, BaseModel.Flux1D],
  [/^chroma/, BaseModel.Chroma],
  [/^lumina/, BaseModel.Lumina],
  [/^anima/, BaseModel.Anima],
  [/^hunyuan_video/, BaseModel.HunyuanVideo],
  [/^qwen/, BaseModel.Qwen],
];

// Base checkpoints of the SD 1 family that trainers name in `ss_sd_model_name` (NovelAI's `animefull`, its
// merges and the common SD 1.5 fine-tunes).
const SD1_CHECKPOINT =
  /v1-[45]|sd[-_ ]?1[._-]?[45]|animefull|novelai|\bnai\b|anything[-_ ]?v?[345]|chilloutmix|orangemix|\baom\d?\b|counterfeit|meinamix|realisticvision|dreamshaper|deliberate|revanimated/;

/** Names of later bases that rule the SD 1 reading out. */
const LATER_CHECKPOINT = /xl|pony|illustrious|noob|flux|sd3|sd[-_ ]?2|v2-1/;

function str(header: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const v = header[key];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/** Base model from header keys alone (`modelspec.architecture`, `ss_base_model_version`, `ss_v2`, `ss_sd_model_name`). */
export function baseModelFromHeader(header: Readonly<Record<string, unknown>>): HeaderGuess | undefined {
  const arch = (str(header, 'modelspec.architecture') ?? str(header, 'modelspec.compat_class'))?.toLowerCase();
  const version = str(header, 'ss_base_model_version')?.toLowerCase();
  let guess: HeaderGuess | undefined;

  // The architecture is the more specific of the two (Flux schnell vs dev, SD 3.5 variants).
  if (arch !== undefined) {
    const hit = ARCHITECTURES.find(([re]) => re.test(arch));
    if (hit) guess = { value: hit[1], known: true, ambiguous: hit[2], evidence: `modelspec.architecture=${arch}` };
  }
  if (guess === undefined && version !== undefined) {
    const hit = BASE_VERSIONS.find(([re]) => re.test(version));
    if (hit) guess = { value: hit[1], known: true, ambiguous: hit[2], evidence: `ss_base_model_version=${version}` };
    else guess = { value: version, known: false, evidence: `ss_base_model_version=${version}` };
  }
  const modelName = str(header, 'ss_sd_model_name')?.toLowerCase();
  if (guess === undefined && modelName !== undefined && /v1-5|sd[-_ ]?1[._-]?5/.test(modelName)) {
    guess = { value: BaseModel.Sd15, known: true, evidence: `ss_sd_model_name=${modelName}` };
  }
  const v2 = str(header, 'ss_v2')?.toLowerCase();
  if (guess === undefined && v2 === 'true') {
    guess = { value: BaseModel.Sd21, known: true, ambiguous: true, evidence: 'ss_v2=True' };
  }
  // kohya wrote `ss_v2` before it wrote `ss_base_model_version` (added with SDXL): without the latter, "False" is SD 1.
  if (
    guess === undefined &&
    v2 === 'false' &&
    version === undefined &&
    arch === undefined &&
    !LATER_CHECKPOINT.test(modelName ?? '')
  ) {
    guess = SD1_CHECKPOINT.test(modelName ?? '')
      ? { value: BaseModel.Sd15, known: true, evidence: `ss_v2=False; ss_sd_model_name=${modelName}` }
      : { value: BaseModel.Sd15, known: true, guessed: true, evidence: 'ss_v2=False, no ss_base_model_version' };
  }
  if (guess === undefined && arch !== undefined) {
    guess = { value: arch.replace(/[/-]lora$/, ''), known: false, evidence: `modelspec.architecture=${arch}` };
  }
  // The header cannot tell SDXL from its derivatives; the base checkpoint's name often can.
  if (guess?.value === BaseModel.Sdxl10 && modelName !== undefined) {
    const derived = /noob/.test(modelName)
      ? BaseModel.NoobAI
      : /illustrious/.test(modelName)
        ? BaseModel.Illustrious
        : /pony/.test(modelName)
          ? BaseModel.Pony
          : undefined;
    if (derived)
      guess = {
        value: derived,
        known: true,
        guessed: true,
        evidence: `${guess.evidence}; ss_sd_model_name=${modelName}`,
      };
  }
  return guess;
}

/**
 * Normalise a base model from whatever is known, in the precedence of LORA-FORMATS §3.3: the
 * Civitai value wins, then A1111's `sd version`, then the header; `Unknown` when nothing is usable.
 */
export function normaliseBaseModel(input: BaseModelInput): NormalisedBaseModel {
  const civitai = input.civitai?.trim();
  if (civitai) {
    const n = normaliseCivitaiBaseModel(civitai);
    if (n.value.toLowerCase() !== 'unknown')
      return { ...n, source: BaseModelSource.Civitai, evidence: `baseModel=${civitai}` };
  }
  const header = input.header ? baseModelFromHeader(input.header) : undefined;
  const sdVersion = input.sdVersion?.trim().toLowerCase();
  if (sdVersion && SD_VERSION[sdVersion]) {
    const hinted = SD_VERSION[sdVersion];
    // The hint is coarse: keep the header's finer value when it agrees on the family.
    if (header?.known && family(header.value) === family(hinted)) return { ...header, source: BaseModelSource.Header };
    return {
      value: hinted,
      known: true,
      source: BaseModelSource.SdVersionHint,
      evidence: `sd version=${input.sdVersion}`,
      ambiguous: hinted === BaseModel.Sd21 || hinted === BaseModel.Sdxl10,
    };
  }
  if (header) return { ...header, source: BaseModelSource.Header };
  return { value: BaseModel.Unknown, known: true, source: BaseModelSource.None };
}

/** Coarse family of a vocabulary value, for compatibility checks (sd1, sd2, sdxl, sd3, flux1, …). */
export function baseModelFamily(value: string): string {
  return family(value);
}

const FAMILIES: ReadonlyArray<[string, readonly BaseModel[]]> = [
  ['sd1', [BaseModel.Sd14, BaseModel.Sd15, BaseModel.Sd15Lcm, BaseModel.Sd15Hyper]],
  ['sd2', [BaseModel.Sd20, BaseModel.Sd20_768, BaseModel.Sd21, BaseModel.Sd21_768, BaseModel.Sd21Unclip]],
  [
    'sdxl',
    [
      BaseModel.Sdxl09,
      BaseModel.Sdxl10,
      BaseModel.Sdxl10Lcm,
      BaseModel.SdxlDistilled,
      BaseModel.SdxlTurbo,
      BaseModel.SdxlLightning,
      BaseModel.SdxlHyper,
      BaseModel.Pony,
      BaseModel.Illustrious,
      BaseModel.NoobAI,
    ],
  ],
  ['sd3', [BaseModel.Sd3, BaseModel.Sd35, BaseModel.Sd35Medium, BaseModel.Sd35Large, BaseModel.Sd35LargeTurbo]],
  ['flux1', [BaseModel.Flux1S, BaseModel.Flux1D, BaseModel.Flux1Krea, BaseModel.Flux1Kontext]],
];

const FAMILY_OF = new Map<string, string>(
  FAMILIES.flatMap(([fam, members]) => members.map((m): [string, string] => [m, fam])),
);

function family(value: string): string {
  return FAMILY_OF.get(value) ?? value.toLowerCase();
}
