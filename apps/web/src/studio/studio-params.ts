import type { GenerationJobDto, GenerationRequestDto } from '../api/generated/types.gen';

/** The studio form: text values as typed; empty = the backend's default. */
export interface StudioForm {
  prompt: string;
  negative_prompt: string;
  backend_id: string;
  sampler_name: string;
  checkpoint: string;
  steps: string;
  cfg_scale: string;
  width: string;
  height: string;
  seed: string;
  batch_size: string;
  n_iter: string;
  enable_hr: boolean;
  hr_scale: string;
  hr_upscaler: string;
  hr_second_pass_steps: string;
  denoising_strength: string;
}

export const NUMBER_FIELDS = [
  'steps',
  'cfg_scale',
  'width',
  'height',
  'seed',
  'batch_size',
  'n_iter',
  'hr_scale',
  'hr_second_pass_steps',
  'denoising_strength',
] as const;
const TEXT_FIELDS = ['backend_id', 'sampler_name', 'checkpoint', 'hr_upscaler'] as const;

export const EMPTY_FORM: StudioForm = {
  prompt: '',
  negative_prompt: '',
  backend_id: '',
  sampler_name: '',
  checkpoint: '',
  steps: '20',
  cfg_scale: '6',
  width: '512',
  height: '512',
  seed: '-1',
  batch_size: '1',
  n_iter: '1',
  enable_hr: false,
  hr_scale: '',
  hr_upscaler: '',
  hr_second_pass_steps: '',
  denoising_strength: '',
};

/** The request body; numbers go as typed (the API names a bad one), blanks are left out. */
export function toGenerationRequest(form: StudioForm): GenerationRequestDto {
  const request: GenerationRequestDto = { prompt: form.prompt };
  if (form.negative_prompt) request.negative_prompt = form.negative_prompt;
  for (const key of TEXT_FIELDS) if (form[key]) request[key] = form[key];
  for (const key of NUMBER_FIELDS) if (form[key].trim() !== '') request[key] = Number(form[key]);
  if (form.enable_hr) request.enable_hr = true;
  else
    for (const key of ['hr_scale', 'hr_second_pass_steps', 'denoising_strength', 'hr_upscaler'] as const)
      delete request[key];
  return request;
}

/** The form filled from an earlier job's request ("reuse its parameters"). */
export function formFromJob(job: GenerationJobDto): StudioForm {
  const r = job.request;
  const form: StudioForm = {
    ...EMPTY_FORM,
    prompt: job.composedPrompt ?? (typeof r.prompt === 'string' ? r.prompt : ''),
  };
  if (typeof r.negative_prompt === 'string') form.negative_prompt = r.negative_prompt;
  for (const key of NUMBER_FIELDS) if (typeof r[key] === 'number') form[key] = String(r[key]);
  if (typeof r.sampler_name === 'string') form.sampler_name = r.sampler_name;
  if (typeof r.hr_upscaler === 'string') form.hr_upscaler = r.hr_upscaler;
  const override = r.override_settings as { sd_model_checkpoint?: unknown } | undefined;
  if (typeof override?.sd_model_checkpoint === 'string') form.checkpoint = override.sd_model_checkpoint;
  if (r.enable_hr === true) form.enable_hr = true;
  if (job.seed !== null) form.seed = String(job.seed);
  return form;
}
