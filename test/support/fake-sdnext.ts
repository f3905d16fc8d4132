/**
 * A fake SD.Next (or AUTOMATIC1111) HTTP server for tests. It follows shared/docs/SDNEXT.md: synchronous txt2img
 * behind one global lock, SD.Next's (or A1111's) progress maths and phase names, soft global interrupt, HTTP Basic
 * auth, FastAPI 422 shapes, middleware error shapes, LoRA name resolution per flavour, and failure injection.
 * Images are tiny (8×8) whatever size is asked for; they still carry the infotext like the real ones.
 * Not modelled: the real rate limiter (only injected 429s), `/history`, img2img, `/internal/progress`.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { posix } from 'node:path';
import { setTimeout as sleep, setImmediate as nextTurn } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';

import { tinyJpeg, tinyPng, tinyWebp } from './images.js';

export type FakeFlavour = 'sdnext' | 'a1111';
export type FakeImageFormat = 'jpeg' | 'png' | 'webp';

/**
 * Injected failures, each consumed by the next request to its path (txt2img unless `failNext` says otherwise):
 * - `empty-images`: the run fails mid-sampling like an OOM: 200 with `images: []` and `info: ""` (txt2img only);
 * - `model-not-found`: the run aborts before sampling: 200 with `images: []` and `info: ""` (txt2img only);
 * - `http-500`: 500 in the middleware shape `{error, code, detail, body, errors}` (A1111: without `code`);
 * - `type-error-500`: 500 whose body is a bare JSON string, as when a `TypeError` escapes a handler;
 * - `rate-limit`: the handler runs (the generation happens), then its answer is replaced by a 429;
 * - `hang`: the request is never answered until `stop()`;
 * - `drop-connection`: the socket is destroyed after the request was read, before any answer.
 */
/**
 * `gzip-bomb`: a 200 whose ~64 KB gzip body inflates to 64 MiB; `endless-body`: a 200 that streams bytes until the
 * client hangs up (hostile or broken servers, for the client's response caps).
 */
export type FakeFailure =
  | 'empty-images'
  | 'model-not-found'
  | 'http-500'
  | 'type-error-500'
  | 'rate-limit'
  | 'hang'
  | 'drop-connection'
  | 'gzip-bomb'
  | 'endless-body';

/** Decompressed size of the `gzip-bomb` answer. */
export const GZIP_BOMB_BYTES = 64 * 1024 * 1024;
let gzipBomb: Buffer | undefined;

/** `{"images":["AAAA…"]}` of `GZIP_BOMB_BYTES`, gzipped once per process. */
function gzipBombBody(): Buffer {
  gzipBomb ??= gzipSync(
    Buffer.concat([Buffer.from('{"images":["'), Buffer.alloc(GZIP_BOMB_BYTES - 15, 'A'), Buffer.from('"]}')]),
  );
  return gzipBomb;
}

export interface FakeLora {
  /** Path under the fake LoRA dir, e.g. `chars/alice.v1.safetensors`. */
  relativePath: string;
  /** safetensors `__metadata__`; `ss_output_name` becomes the alias. */
  metadata?: Record<string, string>;
}

export interface FakeSdNextOptions {
  flavour: FakeFlavour;
  auth?: { user: string; password: string };
  /** Simulated time per sampling step; 0 still yields to the event loop between steps. Default 10. */
  stepMs?: number;
  loras?: FakeLora[];
  /** Default: jpeg on sdnext, png on a1111 (the `samples_format` option; POST /options can change it). */
  imageFormat?: FakeImageFormat;
}

export type FakeOutcome = 'completed' | 'interrupted' | 'failed' | 'model-not-found' | 'stopped';

export interface FakeLoraResolution {
  /** Names as written in `<lora:NAME:…>` tokens that the server found. */
  resolved: string[];
  /** Names the server could not find (logged and skipped by the real server, never an HTTP error). */
  unresolved: string[];
  /** Whole tags of types this flavour does not apply (e.g. `<lyco:…>` on SD.Next). */
  ignored: string[];
  /** `relativePath` of each resolved LoRA, in token order. */
  files: string[];
}

export interface FakeGeneration extends FakeLoraResolution {
  prompt: string;
  negativePrompt: string;
  /** The request merged over the flavour's defaults, as echoed in `parameters`. */
  params: Record<string, unknown>;
  /** Title of the checkpoint the run used. */
  model: string;
  seeds: number[];
  startedAt: number;
  endedAt?: number;
  outcome?: FakeOutcome;
  imageCount: number;
}

export interface FakeRequest {
  method: string;
  path: string;
  authorized: boolean;
  /** Undefined while pending, or when the request hung or its connection was dropped. */
  status?: number;
}

type FieldType = 'str' | 'int' | 'float' | 'bool' | 'list' | 'dict' | 'any' | 'int|str';
interface FieldSpec {
  type: FieldType;
  nullable: boolean;
  default: unknown;
}

// `name type[!] defaultJSON`, `!` = not nullable. SD.Next: SDNEXT.md §3.4 (238 fields, declaration order).
const SDNEXT_FIELDS = `
sd_model_checkpoint str null; prompt str ""; negative_prompt str ""; seed int -1; subseed int -1
subseed_strength float 0; seed_resize_from_h int -1; seed_resize_from_w int -1; batch_size int 1
n_iter int 1; steps int 20; clip_skip int 1; width int 1024; height int 1024; sampler_index int|str! 0
sampler_name str! "Default"; hr_sampler_name str! "Same as primary"; eta float null
guidance_name str "Default"; guidance_scale float 6.0; guidance_rescale float 0.0; guidance_start float 0.0
guidance_stop float 1.0; cfg_scale float 6.0; cfg_end float 1; cfg_rescale float 0.0; cfg_true float 0.0
cfg_adaptive float 0.5; styles list null; tiling bool false; vae_type str "Full"; hidiffusion bool false
do_not_reload_embeddings bool false; detailer_enabled bool false; detailer_prompt str ""
detailer_negative str ""; detailer_steps int 10; detailer_strength float 0.3; detailer_resolution int 1024
detailer_segmentation bool null; detailer_include_detections bool null; detailer_merge bool null
detailer_sort bool null; detailer_classes str null; detailer_conf float null; detailer_iou float null
detailer_max int null; detailer_min_size float null; detailer_max_size float null; detailer_blur int null
detailer_padding int null; detailer_sigma_adjust float null; detailer_sigma_adjust_max float null
detailer_models list null; detailer_augment bool null; img2img_color_correction bool null
color_correction_method str null; img2img_background_color str null; img2img_fix_steps bool null
mask_apply_overlay bool null; include_mask bool null; inpainting_mask_weight float null
samples_save bool null; samples_format str null; save_images_before_highres_fix bool null
save_images_before_refiner bool null; save_images_before_detailer bool null
save_images_before_color_correction bool null; grid_save bool null; grid_format str null
return_grid bool null; keep_incomplete bool null; image_metadata bool null; jpeg_quality int null
lora_fuse_native bool null; lora_fuse_diffusers bool null; lora_force_reload bool null
extra_networks_default_multiplier float null; lora_apply_tags int null; hdr_mode int 0
hdr_brightness float 0; hdr_color float 0; hdr_sharpen float 0; hdr_clamp bool false; hdr_boundary float 4.0
hdr_threshold float 0.95; hdr_maximize bool false; hdr_max_center float 0.6; hdr_max_boundary float 1.0
hdr_color_picker str "#000000"; hdr_tint_ratio float 0; hdr_apply_hires bool true
grading_brightness float 0.0; grading_contrast float 0.0; grading_saturation float 0.0
grading_hue float 0.0; grading_gamma float 1.0; grading_sharpness float 0.0; grading_color_temp float 6500
grading_shadows float 0.0; grading_midtones float 0.0; grading_highlights float 0.0
grading_clahe_clip float 0.0; grading_clahe_grid int 8; grading_shadows_tint str "#000000"
grading_highlights_tint str "#ffffff"; grading_split_tone_balance float 0.5; grading_vignette float 0.0
grading_grain float 0.0; grading_lut_file str ""; grading_lut_strength float 1.0
denoising_strength float 0.3; init_images list null; init_control list null; cfg_image float null
initial_noise_multiplier float null; scale_by float 1; selected_scale_tab int 0; resize_mode int 0
resize_name str "None"; resize_context str "None"; width_before int 0; width_after int 0; width_mask int 0
height_before int 0; height_after int 0; height_mask int 0; resize_name_before str "None"
resize_name_after str "None"; resize_name_mask str "None"; resize_mode_before int 0; resize_mode_after int 0
resize_mode_mask int 0; resize_context_before str "None"; resize_context_after str "None"
resize_context_mask str "None"; selected_scale_tab_before int 0; selected_scale_tab_after int 0
selected_scale_tab_mask int 0; scale_by_before float 1; scale_by_after float 1; scale_by_mask float 1
mask any null; latent_mask any null; mask_for_overlay any null; mask_blur int 4; paste_to any null
inpainting_fill int 1; inpaint_full_res bool false; inpaint_full_res_padding int 0
inpainting_mask_invert int 0; overlay_images any null; enable_hr bool false; firstphase_width int 0
firstphase_height int 0; hr_scale float 2.0; hr_force bool false; hr_resize_mode int 0
hr_resize_context str "None"; hr_second_pass_steps int 0; hr_resize_x int 0; hr_resize_y int 0
hr_denoising_strength float 0.0; refiner_steps int 5; hr_upscaler str null; refiner_start float 0
refiner_prompt str ""; refiner_negative str ""; hr_refiner_start float 0; enhance_prompt bool false
do_not_save_samples bool false; do_not_save_grid bool false; xyz bool false; script_args list! []
schedulers_prediction_type str null; schedulers_beta_schedule str null; schedulers_timesteps str null
schedulers_sigma str null; schedulers_use_thresholding bool null; schedulers_use_loworder bool null
schedulers_solver_order int null; uni_pc_variant str null; schedulers_beta_start float null
schedulers_beta_end float null; schedulers_shift float null; schedulers_dynamic_shift bool null
schedulers_base_shift float null; schedulers_max_shift float null; schedulers_rescale_betas bool null
schedulers_timestep_spacing str null; schedulers_timesteps_range int null
schedulers_sigma_adjust float null; schedulers_sigma_adjust_min float null
schedulers_sigma_adjust_max float null; scheduler_eta float null; eta_noise_seed_delta int null
enable_batch_seeds bool null; diffusers_generator_device str null; nan_skip bool null
sequential_seed bool null; prompt_attention str null; prompt_mean_norm bool null
diffusers_zeros_prompt_pad bool null; te_pooled_embeds bool null; lora_apply_te bool null
te_complex_human_instruction str null; te_use_mask bool null; freeu_enabled bool null; freeu_b1 float null
freeu_b2 float null; freeu_s1 float null; freeu_s2 float null; hypertile_unet_enabled bool null
hypertile_hires_only bool null; hypertile_unet_tile int null; hypertile_unet_min_tile int null
hypertile_unet_swap_size int null; hypertile_unet_depth int null; hypertile_vae_enabled bool null
hypertile_vae_tile int null; hypertile_vae_swap_size int null; teacache_enabled bool null
teacache_thresh float null; token_merging_method str null; tome_ratio float null; todo_ratio float null
skip_processing bool false; override_settings_restore_afterwards bool true; override_settings dict null
network_data dict null; script_name str ""; send_images bool! true; save_images bool! false
alwayson_scripts dict! {}; ip_adapter list null; control_units list null; face dict null; extra dict {}
`;

// A1111: SDNEXT.md §3.6 (v1.6 OpenAPI) plus the later `scheduler`, `hr_scheduler`, `force_task_id`, `infotext`.
const A1111_FIELDS = `
prompt str! ""; negative_prompt str! ""; styles list null; seed int! -1; subseed int! -1
subseed_strength float! 0; seed_resize_from_h int! -1; seed_resize_from_w int! -1; sampler_name str null
batch_size int! 1; n_iter int! 1; steps int! 50; cfg_scale float! 7.0; width int! 512; height int! 512
restore_faces bool null; tiling bool null; do_not_save_samples bool! false; do_not_save_grid bool! false
eta float null; denoising_strength float null; s_min_uncond float null; s_churn float null
s_tmax float null; s_tmin float null; s_noise float null; override_settings dict null
override_settings_restore_afterwards bool! true; refiner_checkpoint str null; refiner_switch_at float null
disable_extra_networks bool! false; comments dict null; enable_hr bool! false; firstphase_width int! 0
firstphase_height int! 0; hr_scale float! 2.0; hr_upscaler str null; hr_second_pass_steps int! 0
hr_resize_x int! 0; hr_resize_y int! 0; hr_checkpoint_name str null; hr_sampler_name str null
hr_prompt str! ""; hr_negative_prompt str! ""; sampler_index str! "Euler"; script_name str null
script_args list! []; send_images bool! true; save_images bool! false; alwayson_scripts dict! {}
scheduler str null; hr_scheduler str null; force_task_id str null; infotext str null
`;

function parseFields(table: string): Map<string, FieldSpec> {
  const fields = new Map<string, FieldSpec>();
  for (const entry of table.split(/[;\n]/)) {
    const text = entry.trim();
    if (!text) continue;
    const m = /^(\w+) ([\w|]+)(!?) (.+)$/.exec(text);
    if (!m) throw new Error(`bad field spec: ${text}`);
    fields.set(m[1], { type: m[2] as FieldType, nullable: m[3] !== '!', default: JSON.parse(m[4]) });
  }
  return fields;
}

const FIELDS: Record<FakeFlavour, Map<string, FieldSpec>> = {
  sdnext: parseFields(SDNEXT_FIELDS),
  a1111: parseFields(A1111_FIELDS),
};

type Issue = Record<string, unknown>;
type Coerced = { ok: true; value: unknown } | { ok: false; issues: Issue[] };

const BOOL_WORDS = new Map<string, boolean>([
  ...['0', 'off', 'f', 'false', 'n', 'no'].map((w): [string, boolean] => [w, false]),
  ...['1', 'on', 't', 'true', 'y', 'yes'].map((w): [string, boolean] => [w, true]),
]);
const FLOAT_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** pydantic v2 lax (python-mode) coercion, as FastAPI applies it on SD.Next; issues in FastAPI's 422 shape. */
function coerceV2(type: FieldType, value: unknown, loc: (string | number)[]): Coerced {
  const fail = (kind: string, msg: string): Coerced => ({
    ok: false,
    issues: [{ type: kind, loc: ['body', ...loc], msg, input: value }],
  });
  switch (type) {
    case 'any':
      return { ok: true, value };
    case 'str':
      return typeof value === 'string' ? { ok: true, value } : fail('string_type', 'Input should be a valid string');
    case 'int':
      if (typeof value === 'boolean') return { ok: true, value: Number(value) };
      if (typeof value === 'number') {
        return Number.isInteger(value)
          ? { ok: true, value }
          : fail('int_from_float', 'Input should be a valid integer, got a number with a fractional part');
      }
      if (typeof value === 'string') {
        return /^\s*[+-]?\d+\s*$/.test(value)
          ? { ok: true, value: Number(value) }
          : fail('int_parsing', 'Input should be a valid integer, unable to parse string as an integer');
      }
      return fail('int_type', 'Input should be a valid integer');
    case 'float':
      if (typeof value === 'number' || typeof value === 'boolean') return { ok: true, value: Number(value) };
      if (typeof value === 'string') {
        return FLOAT_TEXT.test(value.trim())
          ? { ok: true, value: Number(value) }
          : fail('float_parsing', 'Input should be a valid number, unable to parse string as a number');
      }
      return fail('float_type', 'Input should be a valid number');
    case 'bool':
      if (typeof value === 'boolean') return { ok: true, value };
      if (typeof value === 'number' || typeof value === 'string') {
        const word = BOOL_WORDS.get(String(value).trim().toLowerCase());
        return word === undefined
          ? fail('bool_parsing', 'Input should be a valid boolean, unable to interpret input')
          : { ok: true, value: word };
      }
      return fail('bool_type', 'Input should be a valid boolean');
    case 'list':
      return Array.isArray(value) ? { ok: true, value } : fail('list_type', 'Input should be a valid list');
    case 'dict':
      return isPlainObject(value) ? { ok: true, value } : fail('dict_type', 'Input should be a valid dictionary');
    case 'int|str': {
      if (typeof value === 'string') return { ok: true, value };
      const asInt = coerceV2('int', value, [...loc, 'int']);
      if (asInt.ok) return asInt;
      const asStr = coerceV2('str', value, [...loc, 'str']);
      return { ok: false, issues: [...asInt.issues, ...(asStr.ok ? [] : asStr.issues)] };
    }
  }
}

/** pydantic v1 coercion, as stock A1111 1.x applies it; issues in the v1 422 shape. */
function coerceV1(type: FieldType, value: unknown, loc: (string | number)[]): Coerced {
  const fail = (kind: string, msg: string): Coerced => ({
    ok: false,
    issues: [{ loc: ['body', ...loc], msg, type: kind }],
  });
  switch (type) {
    case 'any':
      return { ok: true, value };
    case 'str':
      if (typeof value === 'string') return { ok: true, value };
      return typeof value === 'number'
        ? { ok: true, value: String(value) }
        : fail('type_error.str', 'str type expected');
    case 'int':
    case 'int|str':
      if (typeof value === 'boolean') return { ok: true, value: Number(value) };
      if (typeof value === 'number' && Number.isFinite(value)) return { ok: true, value: Math.trunc(value) };
      if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return { ok: true, value: Number(value) };
      if (type === 'int|str' && typeof value === 'string') return { ok: true, value };
      return fail('type_error.integer', 'value is not a valid integer');
    case 'float':
      if (typeof value === 'number' || typeof value === 'boolean') return { ok: true, value: Number(value) };
      if (typeof value === 'string' && FLOAT_TEXT.test(value.trim())) return { ok: true, value: Number(value) };
      return fail('type_error.float', 'value is not a valid float');
    case 'bool': {
      if (typeof value === 'boolean') return { ok: true, value };
      const word =
        typeof value === 'number' || typeof value === 'string'
          ? BOOL_WORDS.get(String(value).trim().toLowerCase())
          : undefined;
      return word === undefined
        ? fail('type_error.bool', 'value could not be parsed to a boolean')
        : { ok: true, value: word };
    }
    case 'list':
      return Array.isArray(value) ? { ok: true, value } : fail('type_error.list', 'value is not a valid list');
    case 'dict':
      return isPlainObject(value) ? { ok: true, value } : fail('type_error.dict', 'value is not a valid dict');
  }
}

interface ModelEntry {
  name: string;
  file: string;
  sha256: string;
}

function makeModel(name: string, ext = 'safetensors'): ModelEntry {
  return { name, file: `${name}.${ext}`, sha256: createHash('sha256').update(name).digest('hex') };
}

const MODELS = [makeModel('sdxl/juggernautXL_v9'), makeModel('v1-5-pruned-emaonly'), makeModel('flux/flux1-dev')];

const SDNEXT_SAMPLERS = (
  'UniPC|DDIM|Euler|Euler a|Euler SGM|Euler EDM|Euler FlowMatch|DPM++|DPM++ 2M|DPM++ 3M|DPM++ 1S|DPM++ SDE|' +
  'DPM++ 2M SDE|DPM++ 2M EDM|Heun|LCM|TCD|DEIS|PNDM|DDPM|LMSD|KDPM2|KDPM2 a'
).split('|');
// name:alias pairs, as A1111 ≥ 1.9 lists them (schedules are separate).
const A1111_SAMPLERS: [string, string[]][] = (
  'DPM++ 2M:k_dpmpp_2m|DPM++ SDE:k_dpmpp_sde|DPM++ 2M SDE:k_dpmpp_2m_sde|Euler a:k_euler_a|Euler:k_euler|LMS:k_lms|' +
  'Heun:k_heun|DPM2:k_dpm_2|DPM2 a:k_dpm_2_a|DPM fast:k_dpm_fast|DPM adaptive:k_dpm_ad|Restart:restart|DDIM:ddim|' +
  'PLMS:plms|UniPC:unipc|LCM:k_lcm'
)
  .split('|')
  .map((pair) => {
    const [name, alias] = pair.split(':');
    return [name, [alias]];
  });
const A1111_SCHEDULES = 'Karras|Exponential|Polyexponential|SGM Uniform|Uniform|Simple|Normal|Beta'.split('|');

const SDNEXT_VERSION = {
  app: 'sd.next',
  updated: '2026-07-23',
  commit: '058a7f0cf',
  branch: 'master',
  url: 'https://github.com/vladmandic/sdnext/tree/master',
  ui: 'main',
  kanvas: 'main',
};
const A1111_VERSION = 'v1.10.1';
const LORA_TAG = /<(\w+):([^>]+)>/g;

interface IndexedLora {
  relativePath: string;
  path: string;
  /** SD.Next: stem with dots → underscores; A1111: stem as is. */
  name: string;
  stem: string;
  /** Relative path without extension (SD.Next `fullname`). */
  fullname: string;
  alias: string;
  metadata: Record<string, string>;
}

interface ServerState {
  id: number | string;
  job: string;
  jobCount: number;
  jobNo: number;
  samplingStep: number;
  samplingSteps: number;
  jobTimestamp: string;
  interrupted: boolean;
  skipped: boolean;
  timeStart: number;
}

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  t0: number;
  body: Buffer;
  log: FakeRequest;
  /** Set by the `rate-limit` failure: the handler runs, then its answer becomes a 429. */
  rateLimited: boolean;
}

type Handler = (ctx: Ctx, failure: FakeFailure | undefined) => Promise<void> | void;
type Outcome = 'completed' | 'interrupted' | 'skipped' | 'failed' | 'stopped';

class StoppedError extends Error {}

function timestamp(date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const parts = [date.getMonth() + 1, date.getDate(), date.getHours(), date.getMinutes(), date.getSeconds()];
  return `${date.getFullYear()}${parts.map(p).join('')}`;
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function str(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback;
}

function num(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

export class FakeSdNext {
  readonly flavour: FakeFlavour;
  /** Every txt2img that entered the lock, in start order. */
  readonly generations: FakeGeneration[] = [];
  readonly requests: FakeRequest[] = [];

  private readonly auth?: { user: string; password: string };
  private stepMs: number;
  private readonly disk: FakeLora[];
  private index: IndexedLora[] = [];
  private readonly loraDir: string;
  private readonly options: Record<string, unknown>;
  private currentModel: ModelEntry = MODELS[0];
  private readonly failures = new Map<string, FakeFailure[]>();
  private readonly routes: Map<string, Partial<Record<string, Handler>>>;
  private readonly events = new EventEmitter();
  private readonly stopController = new AbortController();
  private server?: Server;
  private lockTail: Promise<void> = Promise.resolve();
  private active = 0;
  private maxActive = 0;
  private txt2imgInFlight = 0;
  private maxTxt2imgInFlight = 0;
  private totalJobs = 0;
  private readonly startedAt = Date.now();
  private lastLoraSet = '';
  private preview?: string;
  private previewShown = false;
  private state: ServerState = {
    id: 0,
    job: '',
    jobCount: 0,
    jobNo: 0,
    samplingStep: 0,
    samplingSteps: 0,
    jobTimestamp: '0',
    interrupted: false,
    skipped: false,
    timeStart: Date.now(),
  };

  constructor(options: FakeSdNextOptions) {
    this.flavour = options.flavour;
    this.auth = options.auth;
    this.stepMs = options.stepMs ?? 10;
    this.disk = [...(options.loras ?? [])];
    this.loraDir = this.flavour === 'sdnext' ? '/fake/sdnext/models/Lora' : '/fake/a1111/models/Lora';
    this.rescanLoras();
    const format = options.imageFormat ?? (this.flavour === 'sdnext' ? 'jpeg' : 'png');
    this.options = {
      sd_model_checkpoint: this.modelTitle(this.currentModel),
      samples_format: format === 'jpeg' ? 'jpg' : format,
      jpeg_quality: 90,
      return_grid: true,
      keep_incomplete: true,
      extra_networks_default_multiplier: 1.0,
      lora_apply_tags: 0,
      CLIP_stop_at_last_layers: 1,
      ...(this.flavour === 'sdnext' ? { server_rate_limit: 300 } : {}),
    };
    this.routes = this.buildRoutes();
  }

  /** Starts listening on 127.0.0.1 with a random port; returns the base URL. */
  async start(): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return this.url;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error('FakeSdNext is not started');
    return `http://127.0.0.1:${address.port}`;
  }

  /** Stops the server, ends running generations and drops hung or waiting connections. */
  async stop(): Promise<void> {
    this.stopController.abort();
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  /** The most txt2img runs that were ever inside the lock at once (1 on a faithful server). */
  get maxConcurrent(): number {
    return this.maxActive;
  }

  /**
   * The most txt2img requests ever open at once, waiting on the lock included. The real server accepts them all
   * and runs them one by one, so only this shows whether a client kept to one request per server.
   */
  get maxRequestsInFlight(): number {
    return this.maxTxt2imgInFlight;
  }

  get currentCheckpoint(): string {
    return this.modelTitle(this.currentModel);
  }

  setStepMs(ms: number): void {
    this.stepMs = ms;
  }

  failNext(kind: FakeFailure, path = '/sdapi/v1/txt2img'): void {
    if ((kind === 'empty-images' || kind === 'model-not-found') && path !== '/sdapi/v1/txt2img') {
      throw new Error(`failure ${kind} applies to /sdapi/v1/txt2img only`);
    }
    this.failures.set(path, [...(this.failures.get(path) ?? []), kind]);
  }

  /** Puts a LoRA file "on disk": `/loras` shows it after a refresh; a txt2img miss rescans, like the real server. */
  addLora(lora: FakeLora): void {
    this.disk.push(lora);
  }

  /** Resolves once a running generation has completed sampling step `step` (at least 1). */
  waitForStep(step = 1): Promise<void> {
    if (this.active > 0 && this.state.samplingStep >= step && this.state.samplingSteps > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const onStep = (current: number) => {
        if (current < step) return;
        this.events.off('step', onStep);
        resolve();
      };
      this.events.on('step', onStep);
    });
  }

  // ---- HTTP plumbing -------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const log: FakeRequest = { method: req.method ?? 'GET', path: url.pathname, authorized: false };
    this.requests.push(log);
    const ctx: Ctx = { req, res, url, t0: performance.now(), body: Buffer.alloc(0), log, rateLimited: false };
    try {
      const methods = this.routes.get(url.pathname);
      if (!methods) return this.send(ctx, 404, { detail: 'Not Found' });
      const handler = methods[log.method];
      if (!handler) return this.send(ctx, 405, { detail: 'Method Not Allowed' });
      const denied = this.checkAuth(req);
      if (denied) return this.send(ctx, 401, this.httpError(401, denied));
      log.authorized = true;
      ctx.body = await this.readBody(req);
      const failure = this.takeFailure(url.pathname);
      switch (failure) {
        case 'hang':
          return; // answered by nobody; stop() closes the socket
        case 'drop-connection':
          req.socket.destroy();
          return;
        case 'http-500':
          return this.send(
            ctx,
            500,
            this.errorBody(500, 'RuntimeError', '', 'CUDA out of memory. Tried to allocate 20.00 MiB (fake)'),
          );
        case 'type-error-500':
          return this.send(ctx, 500, "unsupported operand type(s) for +: 'int' and 'NoneType'");
        case 'rate-limit':
          ctx.rateLimited = true;
          break;
        case 'gzip-bomb': {
          const body = gzipBombBody();
          res.writeHead(200, {
            'content-type': 'application/json',
            'content-encoding': 'gzip',
            'content-length': String(body.length),
          });
          res.end(body);
          return;
        }
        case 'endless-body':
          return this.sendEndless(res);
        default:
          break;
      }
      await handler(ctx, failure);
    } catch (error) {
      if (error instanceof StoppedError || this.stopController.signal.aborted) return;
      this.send(
        ctx,
        500,
        this.errorBody(500, error instanceof Error ? error.constructor.name : 'Exception', '', String(error)),
      );
    }
  }

  private readBody(req: IncomingMessage): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  private send(ctx: Ctx, status: number, body?: unknown): void {
    if (ctx.rateLimited && status < 400) {
      // SD.Next checks the limit after the handler ran: the work is done and its answer is replaced.
      const detail = `127.0.0.1:${ctx.url.pathname}: rate limit exceeded`;
      status = 429;
      body = this.httpError(429, detail);
    }
    const { req, res } = ctx;
    if (res.destroyed || res.headersSent) return;
    const headers: Record<string, string> = { 'x-process-time': ((performance.now() - ctx.t0) / 1000).toFixed(4) };
    ctx.log.status = status;
    if (status === 204) {
      res.writeHead(status, headers).end();
      return;
    }
    let payload = Buffer.from(JSON.stringify(body ?? null));
    headers['content-type'] = 'application/json';
    if (payload.length >= 2048 && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
      payload = gzipSync(payload);
      headers['content-encoding'] = 'gzip';
      headers.vary = 'Accept-Encoding';
    }
    headers['content-length'] = String(payload.length);
    res.writeHead(status, headers).end(payload);
  }

  /** Writes 1 MiB chunks, as fast as the client reads them, until it hangs up. */
  private sendEndless(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(1024 * 1024, ' ');
    const more = (): void => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once('drain', more);
    };
    res.on('close', () => res.destroy());
    more();
  }

  private takeFailure(path: string): FakeFailure | undefined {
    const queue = this.failures.get(path);
    return queue?.shift();
  }

  /** Returns the 401 detail, or undefined when the request may pass. */
  private checkAuth(req: IncomingMessage): string | undefined {
    if (!this.auth) return undefined;
    const header = req.headers.authorization ?? '';
    const m = /^Basic\s+(\S+)$/i.exec(header);
    if (!m) return 'Not authenticated';
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return 'Not authenticated';
    const ok = decoded.slice(0, colon) === this.auth.user && decoded.slice(colon + 1) === this.auth.password;
    if (ok) return undefined;
    return this.flavour === 'sdnext' ? 'Unauthorized' : 'Incorrect username or password';
  }

  private errorBody(code: number, error: string, detail: string, errors: string): Record<string, unknown> {
    return this.flavour === 'sdnext' ? { error, code, detail, body: '', errors } : { error, detail, body: '', errors };
  }

  private httpError(code: number, detail: string): Record<string, unknown> {
    return this.errorBody(code, 'HTTPException', detail, `${code}: ${detail}`);
  }

  private buildRoutes(): Map<string, Partial<Record<string, Handler>>> {
    const v1 = '/sdapi/v1';
    const routes = new Map<string, Partial<Record<string, Handler>>>([
      [`${v1}/txt2img`, { POST: (ctx, failure) => this.postTxt2img(ctx, failure) }],
      [`${v1}/progress`, { GET: (ctx) => this.send(ctx, 200, this.progressBody(ctx)) }],
      [`${v1}/interrupt`, { POST: (ctx) => this.postInterrupt(ctx) }],
      [`${v1}/skip`, { POST: (ctx) => this.postSkip(ctx) }],
      [
        `${v1}/loras`,
        {
          GET: (ctx) =>
            this.send(
              ctx,
              200,
              this.index.map((l) => this.loraJson(l)),
            ),
        },
      ],
      [`${v1}/refresh-loras`, { POST: (ctx) => this.postRefreshLoras(ctx) }],
      [
        `${v1}/sd-models`,
        {
          GET: (ctx) =>
            this.send(
              ctx,
              200,
              MODELS.map((m) => this.modelJson(m)),
            ),
        },
      ],
      [`${v1}/options`, { GET: (ctx) => this.send(ctx, 200, this.options), POST: (ctx) => this.postOptions(ctx) }],
      [`${v1}/samplers`, { GET: (ctx) => this.send(ctx, 200, this.samplersBody()) }],
    ]);
    if (this.flavour === 'sdnext') {
      routes.set(`${v1}/version`, { GET: (ctx) => this.send(ctx, 200, SDNEXT_VERSION) });
      routes.set(`${v1}/status`, { GET: (ctx) => this.send(ctx, 200, this.statusBody()) });
      routes.set(`${v1}/lora`, { GET: (ctx) => this.getLora(ctx) });
    }
    return routes;
  }

  // ---- txt2img -------------------------------------------------------------------------------------------

  private async postTxt2img(ctx: Ctx, failure: FakeFailure | undefined): Promise<void> {
    this.txt2imgInFlight++;
    this.maxTxt2imgInFlight = Math.max(this.maxTxt2imgInFlight, this.txt2imgInFlight);
    try {
      await this.answerTxt2img(ctx, failure);
    } finally {
      this.txt2imgInFlight--;
    }
  }

  private async answerTxt2img(ctx: Ctx, failure: FakeFailure | undefined): Promise<void> {
    const parsed = this.parseBody(ctx.body);
    if ('issues' in parsed) return this.send(ctx, 422, { detail: parsed.issues });
    const params = parsed.params;
    const sampler = this.resolveSampler(params);
    if (sampler === undefined) {
      // SD.Next validates the sampler before taking the lock; A1111 ≥ 1.9 answers 400.
      return this.send(
        ctx,
        this.flavour === 'sdnext' ? 404 : 400,
        this.httpError(this.flavour === 'sdnext' ? 404 : 400, 'Sampler not found'),
      );
    }
    const result = await this.withLock(() => this.generate(params, sampler, failure));
    if (this.stopController.signal.aborted) return;
    this.send(ctx, 200, { images: result.images, parameters: params, info: result.info });
  }

  private parseBody(body: Buffer): { params: Record<string, unknown> } | { issues: Issue[] } {
    const v2 = this.flavour === 'sdnext';
    if (body.length === 0) {
      return {
        issues: [
          v2
            ? { type: 'missing', loc: ['body'], msg: 'Field required', input: null }
            : { loc: ['body'], msg: 'field required', type: 'value_error.missing' },
        ],
      };
    }
    let raw: unknown;
    try {
      raw = JSON.parse(body.toString('utf8'));
    } catch {
      return {
        issues: [
          v2
            ? {
                type: 'json_invalid',
                loc: ['body', 0],
                msg: 'JSON decode error',
                input: {},
                ctx: { error: 'Expecting value' },
              }
            : { loc: ['body', 0], msg: 'Expecting value: line 1 column 1 (char 0)', type: 'value_error.jsondecode' },
        ],
      };
    }
    if (!isPlainObject(raw)) {
      return {
        issues: [
          v2
            ? {
                type: 'model_attributes_type',
                loc: ['body'],
                msg: 'Input should be a valid dictionary or object to extract fields from',
                input: raw,
              }
            : { loc: ['body'], msg: 'value is not a valid dict', type: 'type_error.dict' },
        ],
      };
    }
    const params: Record<string, unknown> = {};
    const issues: Issue[] = [];
    for (const [name, spec] of FIELDS[this.flavour]) {
      if (!(name in raw)) {
        params[name] = structuredClone(spec.default);
        continue;
      }
      const value = raw[name];
      if (value === null && spec.nullable) {
        params[name] = null;
        continue;
      }
      const coerced = value === null && !v2 ? coerceNone(name) : (v2 ? coerceV2 : coerceV1)(spec.type, value, [name]);
      if (coerced.ok) params[name] = coerced.value;
      else issues.push(...coerced.issues);
    }
    // Unknown keys are dropped silently (pydantic's default `extra='ignore'`).
    return issues.length ? { issues } : { params };
  }

  /** Canonical sampler name, or undefined for "Sampler not found". */
  private resolveSampler(params: Record<string, unknown>): string | undefined {
    const requested = params.sampler_name || params.sampler_index;
    if (typeof requested !== 'string') return undefined;
    if (this.flavour === 'sdnext') {
      if (requested.toLowerCase() === 'default') return 'Default';
      return SDNEXT_SAMPLERS.find((s) => s.toLowerCase() === requested.toLowerCase());
    }
    const find = (name: string) => A1111_SAMPLERS.find(([s, aliases]) => s === name || aliases.includes(name))?.[0];
    const direct = find(requested);
    if (direct) return direct;
    const schedule = A1111_SCHEDULES.find((s) => requested.endsWith(` ${s}`));
    return schedule ? find(requested.slice(0, -schedule.length - 1)) : undefined;
  }

  private withLock<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.lockTail;
    let release!: () => void;
    this.lockTail = new Promise<void>((resolve) => (release = resolve));
    return previous.then(fn).finally(release);
  }

  private async generate(
    params: Record<string, unknown>,
    sampler: string,
    failure: FakeFailure | undefined,
  ): Promise<{ images: string[]; info: string }> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    const sdnext = this.flavour === 'sdnext';
    const prompt = str(params.prompt);
    const batchSize = Math.max(1, num(params.batch_size, 1));
    const nIter = Math.max(1, num(params.n_iter, 1));
    const gen: FakeGeneration = {
      prompt,
      negativePrompt: str(params.negative_prompt),
      params,
      model: this.modelTitle(this.currentModel),
      seeds: [],
      startedAt: Date.now(),
      imageCount: 0,
      resolved: [],
      unresolved: [],
      ignored: [],
      files: [],
    };
    this.generations.push(gen);
    const restoreModel = this.currentModel;
    let restore = false;
    try {
      let abort = failure === 'model-not-found';
      if (sdnext && typeof params.sd_model_checkpoint === 'string') {
        const model = this.findModel(params.sd_model_checkpoint);
        if (model) this.currentModel = model;
        else abort = true; // processing_class.py sets p.abort
      }
      const override = isPlainObject(params.override_settings)
        ? params.override_settings.sd_model_checkpoint
        : undefined;
      const overrideModel = typeof override === 'string' ? this.findModel(override) : undefined;
      if (overrideModel) {
        this.currentModel = overrideModel;
        restore = params.override_settings_restore_afterwards !== false;
      }
      gen.model = this.modelTitle(this.currentModel);
      this.beginJob(nIter);
      if (abort) {
        await this.quickPhase('Process');
        gen.outcome = 'model-not-found';
        return { images: [], info: '' };
      }
      Object.assign(gen, this.resolveLoras(prompt));
      await this.quickPhase('Process');
      if (sdnext && gen.files.join('\n') !== this.lastLoraSet) {
        this.lastLoraSet = gen.files.join('\n');
        await this.quickPhase('LoRA');
      }
      const count = batchSize * nIter;
      const seed = num(params.seed, -1) < 0 ? randomInt(0, 4294967294) : num(params.seed, 0);
      const subseed = num(params.subseed, -1) < 0 ? randomInt(0, 4294967294) : num(params.subseed, 0);
      gen.seeds = Array.from({ length: count }, (_, i) => seed + i);
      const steps = Math.max(1, num(params.steps, sdnext ? 20 : 50));
      const hrSteps = num(params.hr_second_pass_steps, 0) || steps;
      const images: number[] = [];
      let outcome: Outcome = 'completed';
      for (let iter = 0; iter < nIter; iter++) {
        this.state.jobNo = sdnext ? 0 : iter;
        this.state.skipped = false;
        outcome = await this.sample(steps, failure);
        if (outcome === 'completed' && params.enable_hr === true) {
          if (sdnext) await this.quickPhase('Hires');
          outcome = await this.sample(hrSteps, failure);
        }
        if (outcome === 'stopped') throw new StoppedError();
        if (outcome === 'failed') {
          gen.outcome = 'failed';
          return { images: [], info: '' };
        }
        if (outcome === 'interrupted') break;
        if (outcome === 'skipped') continue;
        await this.quickPhase('VAE Decode');
        for (let b = 0; b < batchSize; b++) images.push(iter * batchSize + b);
      }
      const keepIncomplete = params.keep_incomplete ?? this.options.keep_incomplete;
      let partial = false;
      if (outcome === 'interrupted' && keepIncomplete !== false && this.previewShown) {
        // A partial image comes back only if a preview was decoded, i.e. someone polled /progress with images.
        images.push(images.length);
        partial = true;
      }
      gen.outcome = outcome === 'interrupted' ? 'interrupted' : 'completed';
      const ctx = { params, sampler, seed, subseed, count, steps, resolution: gen };
      const infotexts = gen.seeds.map((s, i) => this.infotext(ctx, i));
      let encoded = images.map((i) => this.encodeImage(infotexts[Math.min(i, count - 1)]));
      let firstImage = 0;
      const grid = params.save_images === true && encoded.length > 1 && this.options.return_grid !== false;
      if (grid && !partial) {
        encoded = [this.encodeImage(infotexts[0]), ...encoded];
        firstImage = 1;
      }
      if (params.send_images === false) encoded = [];
      gen.imageCount = encoded.length;
      return { images: encoded, info: JSON.stringify(this.info(ctx, infotexts, firstImage)) };
    } catch (error) {
      gen.outcome = 'stopped';
      throw error;
    } finally {
      this.endJob();
      if (restore) this.currentModel = restoreModel;
      this.options.sd_model_checkpoint = this.modelTitle(this.currentModel);
      gen.endedAt = Date.now();
      this.active--;
    }
  }

  private async sample(steps: number, failure: FakeFailure | undefined): Promise<Outcome> {
    if (this.flavour === 'sdnext') this.beginPhase('Inference');
    this.state.samplingSteps = steps;
    this.state.samplingStep = 0;
    try {
      for (let step = 1; step <= steps; step++) {
        try {
          await (this.stepMs > 0 ? sleep(this.stepMs, undefined, { signal: this.stopController.signal }) : nextTurn());
        } catch {
          return 'stopped';
        }
        if (this.stopController.signal.aborted) return 'stopped';
        // The step callback raises at the next step after the flag was set.
        if (this.state.interrupted) return 'interrupted';
        if (this.state.skipped) return 'skipped';
        if (failure === 'empty-images') {
          this.state.interrupted = true; // processing_diffusers.py does the same on a pipeline error
          return 'failed';
        }
        this.state.samplingStep = step;
        this.events.emit('step', step);
      }
      return 'completed';
    } finally {
      if (this.flavour === 'sdnext') this.endPhase();
    }
  }

  private beginJob(nIter: number): void {
    const sdnext = this.flavour === 'sdnext';
    this.state = {
      id: sdnext ? this.newId() : '',
      job: sdnext ? 'API-TXT' : 'scripts_txt2img',
      jobCount: sdnext ? 1 : nIter,
      jobNo: 0,
      samplingStep: 0,
      samplingSteps: 0,
      jobTimestamp: timestamp(),
      interrupted: false, // begin() resets the flag: an interrupt sent while idle is lost
      skipped: false,
      timeStart: Date.now(),
    };
    this.preview = undefined;
    this.previewShown = false;
    this.totalJobs++;
  }

  private endJob(): void {
    // end() keeps sampling_step/sampling_steps, hence SD.Next's progress 1.0 after a job.
    this.state.job = '';
    this.state.jobCount = 0;
    if (this.flavour === 'sdnext') this.state.id = '';
  }

  private beginPhase(name: string): void {
    this.state.job = name;
    this.state.jobCount = 1;
    this.state.id = this.newId();
  }

  private endPhase(): void {
    this.state.job = '';
    this.state.jobCount = 0;
    this.state.id = '';
  }

  private async quickPhase(name: string): Promise<void> {
    if (this.flavour === 'sdnext') this.beginPhase(name);
    await nextTurn();
    if (this.flavour === 'sdnext') this.endPhase();
    if (this.stopController.signal.aborted) throw new StoppedError();
  }

  private newId(): string {
    return randomBytes(8).toString('hex').slice(0, 15);
  }

  private encodeImage(infotext: string): string {
    const format = String(this.options.samples_format);
    const bytes = format === 'png' ? tinyPng(infotext) : format === 'webp' ? tinyWebp() : tinyJpeg(infotext);
    return bytes.toString('base64');
  }

  // ---- info ----------------------------------------------------------------------------------------------

  private loraNetworks(resolution: FakeLoraResolution): string[] {
    const names = resolution.files.map((f) => this.index.find((l) => l.relativePath === f)?.name ?? f);
    return [...new Set(names)];
  }

  private extraParams(resolution: FakeLoraResolution): Record<string, string> {
    const names = this.loraNetworks(resolution);
    if (names.length === 0) return {};
    if (this.flavour === 'sdnext') return { 'LoRA networks': names.join(', ') };
    const hashes = resolution.files.map((f) => {
      const lora = this.index.find((l) => l.relativePath === f);
      return `${lora?.alias ?? f}: ${this.shorthash(f)}`;
    });
    return { 'Lora hashes': [...new Set(hashes)].join(', ') };
  }

  private infotext(
    ctx: { params: Record<string, unknown>; sampler: string; subseed: number; resolution: FakeGeneration },
    index: number,
  ): string {
    const { params, sampler, resolution } = ctx;
    const seed = resolution.seeds[index];
    const width = this.flavour === 'sdnext' ? 8 * Math.floor(num(params.width, 1024) / 8) : num(params.width, 512);
    const height = this.flavour === 'sdnext' ? 8 * Math.floor(num(params.height, 1024) / 8) : num(params.height, 512);
    const model = this.currentModel;
    const pairs: [string, unknown][] =
      this.flavour === 'sdnext'
        ? [
            ['Steps', params.steps],
            ['Size', `${width}x${height}`],
            ['Sampler', sampler === 'Default' ? null : sampler],
            ['Seed', seed],
            ['CFG scale', params.cfg_scale],
            ['CLiP-skip', num(params.clip_skip, 1) > 1 ? params.clip_skip : null],
            ['App', 'SD.Next'],
            ['Version', SDNEXT_VERSION.commit.slice(0, 7)],
            ['Operations', 'txt2img'],
            ['Model', posix.basename(model.name)],
            ['Model hash', model.sha256.slice(0, 10)],
          ]
        : [
            ['Steps', params.steps],
            ['Sampler', sampler],
            ['Schedule type', 'Automatic'],
            ['CFG scale', params.cfg_scale],
            ['Seed', seed],
            ['Size', `${width}x${height}`],
            ['Model hash', model.sha256.slice(0, 10)],
            ['Model', posix.basename(model.name)],
          ];
    pairs.push(...Object.entries(this.extraParams(resolution)));
    if (this.flavour === 'a1111') pairs.push(['Version', A1111_VERSION]);
    const line = pairs
      .filter(([, v]) => v !== null && v !== undefined && v !== '' && !(typeof v === 'number' && v <= -1))
      .map(([k, v]) => {
        const text = String(v);
        return `${k}: ${/[,:\n]/.test(text) ? JSON.stringify(text) : text}`;
      })
      .join(', ');
    const negative = str(params.negative_prompt);
    return `${str(params.prompt)}${negative ? `\nNegative prompt: ${negative}` : ''}\n${line}`;
  }

  private info(
    ctx: {
      params: Record<string, unknown>;
      sampler: string;
      subseed: number;
      count: number;
      resolution: FakeGeneration;
    },
    infotexts: string[],
    firstImage: number,
  ): Record<string, unknown> {
    const { params, sampler, subseed, count, resolution } = ctx;
    const prompt = str(params.prompt);
    const negative = str(params.negative_prompt);
    const model = this.currentModel;
    const common = {
      prompt,
      all_prompts: Array<string>(count).fill(prompt),
      negative_prompt: negative,
      all_negative_prompts: Array<string>(count).fill(negative),
      seed: resolution.seeds[0],
      all_seeds: resolution.seeds,
      subseed,
      all_subseeds: Array.from({ length: count }, (_, i) => subseed + i),
      subseed_strength: params.subseed_strength,
      width: params.width,
      height: params.height,
      sampler_name: sampler,
      cfg_scale: params.cfg_scale,
    };
    const tail = {
      seed_resize_from_w: params.seed_resize_from_w,
      seed_resize_from_h: params.seed_resize_from_h,
      denoising_strength: params.denoising_strength,
      extra_generation_params: this.extraParams(resolution),
      index_of_first_image: firstImage,
      infotexts,
      styles: Array.isArray(params.styles) ? params.styles : [],
      job_timestamp: this.state.jobTimestamp,
      clip_skip: this.flavour === 'sdnext' ? params.clip_skip : 1,
    };
    if (this.flavour === 'sdnext') {
      return {
        ...common,
        cfg_end: params.cfg_end,
        steps: params.steps,
        batch_size: params.batch_size,
        detailer: params.detailer_enabled === true,
        detailer_model: null,
        sd_model_hash: model.sha256.slice(0, 10),
        ...tail,
      };
    }
    return {
      ...common,
      steps: params.steps,
      batch_size: params.batch_size,
      restore_faces: false,
      face_restoration_model: null,
      sd_model_name: posix.basename(model.name),
      sd_model_hash: model.sha256.slice(0, 10),
      sd_vae_name: null,
      sd_vae_hash: null,
      ...tail,
      is_using_inpainting_conditioning: false,
      version: A1111_VERSION,
    };
  }

  // ---- LoRAs ---------------------------------------------------------------------------------------------

  private rescanLoras(): void {
    this.index = this.disk.map((lora) => {
      const base = posix.basename(lora.relativePath);
      const ext = posix.extname(base);
      const stem = ext ? base.slice(0, -ext.length) : base;
      const name = this.flavour === 'sdnext' ? stem.replace(/\./g, '_') : stem;
      const metadata = lora.metadata ?? {};
      return {
        relativePath: lora.relativePath,
        path: posix.join(this.loraDir, lora.relativePath),
        name,
        stem,
        fullname: ext ? lora.relativePath.slice(0, -ext.length) : lora.relativePath,
        alias: metadata.ss_output_name ?? name,
        metadata,
      };
    });
  }

  private lookupLora(name: string): IndexedLora | undefined {
    if (this.flavour === 'a1111') {
      return this.index.find((l) => l.stem === name) ?? this.index.find((l) => l.alias === name);
    }
    if (name.startsWith('/')) return this.index.find((l) => l.path === name);
    // Keys: mangled name and fullname first; the natural stem only with setdefault. Never ss_output_name.
    return this.index.find((l) => l.name === name || l.fullname === name) ?? this.index.find((l) => l.stem === name);
  }

  private resolveLoras(prompt: string): FakeLoraResolution {
    const result: FakeLoraResolution = { resolved: [], unresolved: [], ignored: [], files: [] };
    const types = this.flavour === 'sdnext' ? ['lora'] : ['lora', 'lyco'];
    for (const m of prompt.matchAll(LORA_TAG)) {
      if (!types.includes(m[1])) {
        result.ignored.push(m[0]);
        continue;
      }
      const name = m[2].split(':')[0];
      let hit = this.lookupLora(name);
      if (!hit) {
        this.rescanLoras(); // a miss triggers one rescan on both servers
        hit = this.lookupLora(name);
      }
      if (hit) {
        result.resolved.push(name);
        result.files.push(hit.relativePath);
      } else {
        result.unresolved.push(name);
      }
    }
    return result;
  }

  private loraMetadata(lora: IndexedLora): Record<string, unknown> {
    return Object.fromEntries(
      Object.entries(lora.metadata).map(([k, v]) => {
        if (!v.startsWith('{')) return [k, v];
        try {
          return [k, JSON.parse(v) as unknown];
        } catch {
          return [k, v];
        }
      }),
    );
  }

  private loraJson(lora: IndexedLora): Record<string, unknown> {
    return { name: lora.name, alias: lora.alias, path: lora.path, metadata: this.loraMetadata(lora) };
  }

  private shorthash(relativePath: string): string {
    return createHash('sha256').update(relativePath).digest('hex').slice(0, 12);
  }

  private networkOnDisk(lora: IndexedLora): Record<string, unknown> {
    return {
      shorthash: '',
      hash: '',
      name: lora.name,
      filename: lora.path,
      fullname: lora.fullname,
      metadata: this.loraMetadata(lora),
      is_safetensors: lora.path.endsWith('.safetensors'),
      alias: lora.alias,
      sd_version: '',
    };
  }

  private postRefreshLoras(ctx: Ctx): void {
    this.rescanLoras();
    if (this.flavour === 'a1111') return this.send(ctx, 200, null);
    this.send(ctx, 200, Object.fromEntries(this.index.map((l) => [l.name, this.networkOnDisk(l)])));
  }

  private getLora(ctx: Ctx): void {
    const name = ctx.url.searchParams.get('lora') ?? '';
    const lora = this.lookupLora(name);
    if (!lora) return this.send(ctx, 404, this.httpError(404, `Lora '${name}' not found`));
    this.send(ctx, 200, this.networkOnDisk(lora));
  }

  // ---- progress, interrupt, status -----------------------------------------------------------------------

  private progressNumbers(): { progress: number; eta: number } {
    const s = this.state;
    const elapsed = (Date.now() - s.timeStart) / 1000;
    let progress: number;
    if (this.flavour === 'sdnext') {
      if (s.jobCount === 0 && s.samplingStep === 0) return { progress: 0, eta: 0 };
      const batchX = Math.max(s.jobNo, 0);
      const batchY = Math.max(s.jobCount, 1);
      const stepX = Math.max(s.samplingStep, 0);
      let stepY = Math.max(s.samplingSteps, 1);
      while (stepX > stepY) stepY += Math.max(s.samplingSteps, 1);
      progress = Math.min((stepY * batchX + stepX) / (stepY * batchY), 1);
    } else {
      if (s.jobCount === 0) return { progress: 0, eta: 0 };
      progress = 0.01;
      if (s.jobCount > 0) progress += s.jobNo / s.jobCount;
      if (s.jobCount > 0 && s.samplingSteps > 0) progress += ((1 / s.jobCount) * s.samplingStep) / s.samplingSteps;
      progress = Math.min(progress, 1);
    }
    const eta = progress > 0 ? elapsed / progress - elapsed : 0;
    return this.flavour === 'sdnext' ? { progress: round2(progress), eta: round2(eta) } : { progress, eta };
  }

  private progressBody(ctx: Ctx): Record<string, unknown> {
    const skipImage = BOOL_WORDS.get((ctx.url.searchParams.get('skip_current_image') ?? 'false').toLowerCase());
    const s = this.state;
    if (skipImage !== true && this.active > 0 && s.samplingStep > 0) {
      this.preview = this.encodeImage('preview');
      this.previewShown = true;
    }
    const { progress, eta } = this.progressNumbers();
    const state: Record<string, unknown> = {
      skipped: s.skipped,
      interrupted: s.interrupted,
      ...(this.flavour === 'a1111' ? { stopping_generation: false } : {}),
      job: s.job,
      job_count: s.jobCount,
      job_timestamp: s.jobTimestamp,
      job_no: s.jobNo,
      sampling_step: s.samplingStep,
      sampling_steps: s.samplingSteps,
    };
    const body = {
      progress,
      eta_relative: eta,
      state,
      current_image: skipImage !== true && this.preview ? this.preview : null,
      textinfo: null,
    };
    return this.flavour === 'sdnext' ? { id: s.id, ...body } : body;
  }

  private statusBody(): Record<string, unknown> {
    const s = this.state;
    const { progress, eta } = this.progressNumbers();
    const status = s.interrupted ? 'interrupted' : s.skipped ? 'skipped' : s.job !== '' ? 'running' : 'idle';
    return {
      status,
      task: s.job,
      timestamp: s.jobTimestamp,
      current: '',
      id: s.id,
      job: s.jobNo,
      jobs: s.jobCount,
      total: this.totalJobs,
      step: s.samplingStep,
      steps: s.samplingSteps,
      queued: 0, // requests waiting on the lock are invisible, as on the real server
      uptime: Math.round((Date.now() - this.startedAt) / 1000),
      elapsed: round2((Date.now() - s.timeStart) / 1000),
      eta,
      progress,
    };
  }

  private postInterrupt(ctx: Ctx): void {
    this.state.interrupted = true;
    if (this.flavour === 'sdnext') return this.send(ctx, 204);
    this.send(ctx, 200, {});
  }

  private postSkip(ctx: Ctx): void {
    this.state.skipped = true;
    if (this.flavour === 'sdnext') return this.send(ctx, 204);
    this.send(ctx, 200, null);
  }

  // ---- models, options, samplers -------------------------------------------------------------------------

  private modelTitle(model: ModelEntry): string {
    const hash = model.sha256.slice(0, 10);
    return this.flavour === 'sdnext' ? `${model.name} [${hash}]` : `${model.file} [${hash}]`;
  }

  private modelJson(model: ModelEntry): Record<string, unknown> {
    const filename = posix.join(`/fake/${this.flavour}/models/Stable-diffusion`, model.file);
    const common = {
      title: this.modelTitle(model),
      model_name: this.flavour === 'sdnext' ? model.name : posix.basename(model.name),
      hash: model.sha256.slice(0, 10),
      sha256: model.sha256,
      filename,
      config: null,
    };
    return this.flavour === 'sdnext' ? { ...common, type: posix.extname(model.file).slice(1) } : common;
  }

  private findModel(wanted: string): ModelEntry | undefined {
    return MODELS.find((m) => {
      const json = this.modelJson(m);
      return [json.title, json.model_name, json.filename, json.hash, m.name, m.file].includes(wanted);
    });
  }

  private postOptions(ctx: Ctx): void {
    let body: unknown;
    try {
      body = JSON.parse(ctx.body.toString('utf8') || '{}');
    } catch {
      return this.send(ctx, 422, {
        detail: [
          {
            type: 'json_invalid',
            loc: ['body', 0],
            msg: 'JSON decode error',
            input: {},
            ctx: { error: 'Expecting value' },
          },
        ],
      });
    }
    if (!isPlainObject(body)) {
      return this.send(ctx, 422, {
        detail: [{ type: 'dict_type', loc: ['body'], msg: 'Input should be a valid dictionary', input: body }],
      });
    }
    const updated: Record<string, boolean>[] = [];
    for (const [key, value] of Object.entries(body)) {
      if (key === 'sd_model_checkpoint') {
        const model = typeof value === 'string' ? this.findModel(value) : undefined;
        if (!model && this.flavour === 'a1111') {
          return this.send(ctx, 500, this.errorBody(500, 'RuntimeError', '', `model '${String(value)}' not found`));
        }
        const changed = !!model && model !== this.currentModel;
        if (model) this.currentModel = model;
        this.options.sd_model_checkpoint = this.modelTitle(this.currentModel);
        updated.push({ [key]: changed });
        continue;
      }
      const known = key in this.options;
      const changed = known && this.options[key] !== value;
      if (known) this.options[key] = value;
      updated.push({ [key]: changed });
    }
    this.send(ctx, 200, this.flavour === 'sdnext' ? { updated } : null);
  }

  private samplersBody(): Record<string, unknown>[] {
    if (this.flavour === 'sdnext') {
      return SDNEXT_SAMPLERS.map((name) => ({
        name,
        options: { steps_offset: 0, rescale_betas_zero_snr: false, timestep_spacing: 'linspace' },
      }));
    }
    return A1111_SAMPLERS.map(([name, aliases]) => ({ name, aliases, options: {} }));
  }
}

function coerceNone(name: string): Coerced {
  return {
    ok: false,
    issues: [{ loc: ['body', name], msg: 'none is not an allowed value', type: 'type_error.none.not_allowed' }],
  };
}
