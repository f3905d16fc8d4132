import type { SdNextError } from './sdnext.errors.js';

/** What kind of server answers at a base URL (SDNEXT.md §1.12). */
export enum SdBackendFlavour {
  SdNext = 'sdnext',
  A1111 = 'a1111',
  Unknown = 'unknown',
}

/** MIME type sniffed from the decoded bytes; SD.Next sends JPEG by default, A1111 PNG (SDNEXT.md §1.11). */
export enum SdImageContentType {
  Jpeg = 'image/jpeg',
  Png = 'image/png',
  Webp = 'image/webp',
  /** Anything else (SD.Next can also be set to tiff, jp2 or jxl). */
  Unknown = 'application/octet-stream',
}

export interface SdNextCredentials {
  user: string;
  password: string;
}

export interface SdNextClientOptions {
  /** e.g. `http://127.0.0.1:7860`; a path prefix (`--subpath`) and `user:password@` are allowed. */
  baseUrl: string;
  /** HTTP Basic credentials, or `'user:password'` (split on the first colon; passwords may contain `:`). */
  auth?: SdNextCredentials | string;
  /** Whole-request limit for txt2img, which holds the connection until the image is done. Default 15 min. */
  requestTimeoutMs?: number;
  /** Whole-request limit for every other call. Default 10 s. */
  shortTimeoutMs?: number;
  /**
   * Largest answer accepted, as sent and once decompressed (a gzip body is inflated only up to it). Default 256 MiB:
   * room for a batch of base64 images.
   */
  maxResponseBytes?: number;
}

/**
 * The txt2img body. Keys are SD.Next's wire names (SDNEXT.md §3.4); any other key is passed through as is
 * (the server ignores keys it does not know).
 */
export interface Txt2ImgParams {
  prompt?: string;
  negative_prompt?: string;
  steps?: number;
  cfg_scale?: number;
  width?: number;
  height?: number;
  /** -1 = random; the seed really used comes back in the result. */
  seed?: number;
  subseed?: number;
  subseed_strength?: number;
  sampler_name?: string;
  batch_size?: number;
  n_iter?: number;
  clip_skip?: number;
  denoising_strength?: number;
  enable_hr?: boolean;
  hr_scale?: number;
  hr_upscaler?: string;
  hr_second_pass_steps?: number;
  styles?: string[];
  send_images?: boolean;
  save_images?: boolean;
  keep_incomplete?: boolean;
  /** SD.Next only: a checkpoint not found makes the run abort with 200 and no images. */
  sd_model_checkpoint?: string;
  override_settings?: Record<string, unknown>;
  override_settings_restore_afterwards?: boolean;
  alwayson_scripts?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Txt2ImgOptions {
  /** Aborts the HTTP request. It does not stop the generation on the server: call `interrupt()` for that. */
  signal?: AbortSignal;
  /** Accept `images: []` (e.g. after an interrupt) instead of failing with `SdNextErrorKind.EmptyResult`. */
  allowEmpty?: boolean;
}

export interface SdImage {
  bytes: Buffer;
  contentType: SdImageContentType;
}

export interface Txt2ImgResult {
  images: SdImage[];
  /** `info` parsed (it arrives as a JSON string); `{}` when the server sent `""` or something unparseable. */
  info: Record<string, unknown>;
  /** The raw `info` string, kept for diagnostics. */
  infoText: string;
  /** The request as the server echoed it, defaults filled in. */
  parameters: Record<string, unknown>;
  /** The seed really used for the first image (null when the server did not say). */
  seed: number | null;
  seeds: number[];
}

/**
 * One progress reading. SD.Next has no task id: a reading describes whatever runs on the server, and SD.Next
 * reports `progress` 1 with `job` '' between phases and after a job, so only the txt2img answer means "done".
 */
export interface SdProgress {
  /** 0..1. */
  progress: number;
  step: number;
  steps: number;
  /** Estimated seconds left; null when the server cannot tell yet. */
  etaSeconds: number | null;
  /** Current phase, e.g. `Inference` (SD.Next) or `scripts_txt2img` (A1111); '' between phases or when idle. */
  job: string;
  jobCount: number;
  jobNo: number;
  interrupted: boolean;
  skipped: boolean;
  /** SD.Next's id of the current phase (it changes several times per request); null on A1111 or when idle. */
  phaseId: string | null;
}

export interface SdProbeResult {
  /** The server answered HTTP (even with an error status). */
  reachable: boolean;
  flavour: SdBackendFlavour;
  /** SD.Next commit (or update date); absent on A1111, which has no version route. */
  version?: string;
  /** Title of the loaded checkpoint, from `/sdapi/v1/options`. */
  currentModel?: string;
  /** What went wrong, when something did; a probe never throws. */
  error?: SdNextError;
}

export interface SdLora {
  /** The name that `<lora:NAME:…>` accepts (SD.Next: file stem with dots → underscores). */
  name: string;
  /** `ss_output_name` or the name; SD.Next does not accept it in tokens. */
  alias: string;
  /** Absolute path on the server. */
  path: string;
  metadata: Record<string, unknown>;
}

export interface SdSampler {
  name: string;
  aliases: string[];
  options: Record<string, unknown>;
}

export interface SdModel {
  title: string;
  modelName: string;
  filename: string;
  hash: string | null;
  sha256: string | null;
  /** File extension or `diffusers` (SD.Next only). */
  type: string | null;
}
