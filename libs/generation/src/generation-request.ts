import { type FieldProblem, InvalidInputError } from '@app/core';
import type { Txt2ImgParams } from './sdnext/index.js';

/**
 * What a client may ask for, in SD.Next's wire names (SDNEXT.md §3.4) plus `checkpoint` (sent as
 * `override_settings.sd_model_checkpoint`) and `backend_id` (pin one configured backend).
 */
/** The txt2img settings a client may set, typed as SD.Next takes them. */
type ClientTxt2ImgField =
  | 'negative_prompt'
  | 'steps'
  | 'cfg_scale'
  | 'width'
  | 'height'
  | 'seed'
  | 'subseed'
  | 'subseed_strength'
  | 'sampler_name'
  | 'batch_size'
  | 'n_iter'
  | 'clip_skip'
  | 'enable_hr'
  | 'hr_scale'
  | 'hr_upscaler'
  | 'hr_second_pass_steps'
  | 'denoising_strength';

export interface GenerationRequest extends Pick<Txt2ImgParams, ClientTxt2ImgField> {
  prompt: string;
  checkpoint?: string;
  backend_id?: string;
}

interface NumberRule {
  min: number;
  max: number;
  integer: boolean;
  multipleOf?: number;
}

/** Ranges SD.Next's UI allows; the server itself accepts anything its pydantic types parse. */
export const GENERATION_LIMITS = {
  steps: { min: 1, max: 150, integer: true },
  cfg_scale: { min: 0, max: 30, integer: false },
  width: { min: 64, max: 4096, integer: true, multipleOf: 8 },
  height: { min: 64, max: 4096, integer: true, multipleOf: 8 },
  seed: { min: -1, max: 4_294_967_295, integer: true },
  subseed: { min: -1, max: 4_294_967_295, integer: true },
  subseed_strength: { min: 0, max: 1, integer: false },
  batch_size: { min: 1, max: 16, integer: true },
  n_iter: { min: 1, max: 32, integer: true },
  clip_skip: { min: 1, max: 12, integer: true },
  hr_scale: { min: 1, max: 8, integer: false },
  hr_second_pass_steps: { min: 0, max: 150, integer: true },
  denoising_strength: { min: 0, max: 1, integer: false },
} satisfies Record<string, NumberRule>;

const MAX_PROMPT = 20_000;
const MAX_NAME = 300;

type NumberField = keyof typeof GENERATION_LIMITS;

/**
 * Checks a request (the API's DTO checks shapes; this also guards the worker and the CLI) and builds the txt2img
 * body. Throws {@link InvalidInputError} listing every bad field.
 */
export function toTxt2ImgParams(request: GenerationRequest): Txt2ImgParams {
  const problems: FieldProblem[] = [];
  const r = request as unknown as Record<string, unknown>;
  if (typeof r.prompt !== 'string') problems.push({ field: 'prompt', message: 'must be a string' });
  else if (r.prompt.length > MAX_PROMPT)
    problems.push({ field: 'prompt', message: `must be at most ${MAX_PROMPT} characters` });
  if (
    r.negative_prompt !== undefined &&
    (typeof r.negative_prompt !== 'string' || r.negative_prompt.length > MAX_PROMPT)
  ) {
    problems.push({ field: 'negative_prompt', message: `must be a string of at most ${MAX_PROMPT} characters` });
  }
  for (const field of ['sampler_name', 'checkpoint', 'hr_upscaler', 'backend_id'] as const) {
    const v = r[field];
    if (v !== undefined && (typeof v !== 'string' || v.trim() === '' || v.length > MAX_NAME)) {
      problems.push({ field, message: `must be a non-empty string of at most ${MAX_NAME} characters` });
    }
  }
  if (r.enable_hr !== undefined && typeof r.enable_hr !== 'boolean')
    problems.push({ field: 'enable_hr', message: 'must be a boolean' });
  for (const [field, rule] of Object.entries(GENERATION_LIMITS) as [NumberField, NumberRule][]) {
    const v = r[field];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) problems.push({ field, message: 'must be a number' });
    else if (rule.integer && !Number.isInteger(v)) problems.push({ field, message: 'must be an integer' });
    else if (v < rule.min || v > rule.max)
      problems.push({ field, message: `must be between ${rule.min} and ${rule.max}` });
    else if (rule.multipleOf && v % rule.multipleOf !== 0)
      problems.push({ field, message: `must be a multiple of ${rule.multipleOf}` });
  }
  if (problems.length > 0) {
    throw new InvalidInputError(
      'invalid_generation_request',
      problems.map((p) => `${p.field}: ${p.message}`).join('; '),
      problems,
    );
  }
  const { checkpoint, backend_id: _backend, ...wire } = request;
  const params: Txt2ImgParams = { ...wire, send_images: true, save_images: false };
  for (const key of Object.keys(params)) if (params[key] === undefined) delete params[key];
  if (checkpoint) params.override_settings = { sd_model_checkpoint: checkpoint };
  return params;
}
