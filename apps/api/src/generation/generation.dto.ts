import { ApiProperty, OmitType } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { IsOptionalNonNull } from '../common/validation.js';
import { ComposeRequestDto, ComposeResultDto } from '../compose/compose.dto.js';
import {
  type BackendOptions,
  type BackendStatus,
  GENERATION_LIMITS,
  GenerationMode,
  GenerationStatus,
  SdBackendFlavour,
} from '@app/generation';
import { OffsetPageQueryDto } from '../common/page-query.dto.js';
import { JobTimesDto, OffsetPageDto } from '../common/list-page.dto.js';
import { toInteger } from '../common/query-params.js';
import { ApiInteger, ApiUuid } from '../common/api-docs.js';

const L = GENERATION_LIMITS;

/** A txt2img request in SD.Next's field names (SDNEXT.md §3.4), plus `checkpoint` and `backend_id`. */
export class GenerationRequestDto {
  /** @example a watercolor fox <lora:Watercolor:0.8> */
  @IsString()
  @MaxLength(20_000)
  prompt: string;

  @IsOptionalNonNull()
  @IsString()
  @MaxLength(20_000)
  negative_prompt?: string;

  /** Sampling steps (SD.Next default 20). */
  @IsOptionalNonNull()
  @IsInt()
  @Min(L.steps.min)
  @Max(L.steps.max)
  steps?: number;

  @IsOptionalNonNull()
  @IsNumber()
  @Min(L.cfg_scale.min)
  @Max(L.cfg_scale.max)
  cfg_scale?: number;

  /** Pixels, a multiple of 8. */
  @IsOptionalNonNull()
  @IsInt()
  @Min(L.width.min)
  @Max(L.width.max)
  width?: number;

  /** Pixels, a multiple of 8. */
  @IsOptionalNonNull()
  @IsInt()
  @Min(L.height.min)
  @Max(L.height.max)
  height?: number;

  /** -1 = random; the seed used is recorded with the result. */
  @IsOptionalNonNull()
  @IsInt()
  @Min(L.seed.min)
  @Max(L.seed.max)
  seed?: number;

  @IsOptionalNonNull()
  @IsInt()
  @Min(L.subseed.min)
  @Max(L.subseed.max)
  subseed?: number;

  @IsOptionalNonNull()
  @IsNumber()
  @Min(L.subseed_strength.min)
  @Max(L.subseed_strength.max)
  subseed_strength?: number;

  /** @example Euler a */
  @IsOptionalNonNull()
  @IsString()
  @MinLength(1)
  @MaxLength(300)
  sampler_name?: string;

  /** Images per batch. */
  @IsOptionalNonNull()
  @IsInt()
  @Min(L.batch_size.min)
  @Max(L.batch_size.max)
  batch_size?: number;

  /** Batches. */
  @IsOptionalNonNull()
  @IsInt()
  @Min(L.n_iter.min)
  @Max(L.n_iter.max)
  n_iter?: number;

  @IsOptionalNonNull()
  @IsInt()
  @Min(L.clip_skip.min)
  @Max(L.clip_skip.max)
  clip_skip?: number;

  /** Checkpoint title, sent as `override_settings.sd_model_checkpoint`; SD.Next aborts with no images when it is unknown. */
  @IsOptionalNonNull()
  @IsString()
  @MinLength(1)
  @MaxLength(300)
  checkpoint?: string;

  @IsOptionalNonNull()
  @IsBoolean()
  enable_hr?: boolean;

  @IsOptionalNonNull()
  @IsNumber()
  @Min(L.hr_scale.min)
  @Max(L.hr_scale.max)
  hr_scale?: number;

  @IsOptionalNonNull()
  @IsString()
  @MinLength(1)
  @MaxLength(300)
  hr_upscaler?: string;

  @IsOptionalNonNull()
  @IsInt()
  @Min(L.hr_second_pass_steps.min)
  @Max(L.hr_second_pass_steps.max)
  hr_second_pass_steps?: number;

  @IsOptionalNonNull()
  @IsNumber()
  @Min(L.denoising_strength.min)
  @Max(L.denoising_strength.max)
  denoising_strength?: number;

  /** Run on this backend only (`sdnext-0`, …); by default the first idle one. */
  @IsOptionalNonNull()
  @IsString()
  @MaxLength(64)
  backend_id?: string;
}

export class GenerationJobParamsDto {
  @IsUUID()
  jobId: string;
}

export class GenerationImageParamsDto {
  @IsUUID()
  jobId: string;

  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(10_000)
  index: number;
}

export class ListGenerationJobsQueryDto extends OffsetPageQueryDto {
  @IsOptional()
  @IsIn(Object.values(GenerationStatus))
  status?: GenerationStatus;
}

export class BackendDto implements BackendStatus {
  /** @example sdnext-0 */
  id: string;
  /** Base URL, without credentials. */
  url: string;
  reachable: boolean;
  flavour: SdBackendFlavour;
  version: string | null;
  /** Title of the loaded checkpoint. */
  currentModel: string | null;
  /** A generation holds this backend now. */
  busy: boolean;
  @ApiUuid({ nullable: true })
  jobId: string | null;
  error: string | null;
}

export class BackendParamsDto {
  /** @example sdnext-0 */
  @IsString()
  @Matches(/^[a-z0-9-]{1,64}$/)
  backendId: string;
}

export class CheckpointOptionDto {
  /** What `checkpoint` takes. */
  title: string;
  name: string;
}

export class BackendOptionsDto implements BackendOptions {
  backendId: string;
  samplers: string[];
  checkpoints: CheckpointOptionDto[];
}

export class GenerationImageDto {
  @ApiInteger({ minimum: 0 })
  index: number;
  /** Where to fetch the stored bytes. */
  url: string;
  /** Sniffed from the bytes (SD.Next sends JPEG by default). */
  contentType: string;
  @ApiInteger({ minimum: 0 })
  size: number;
}

export class GenerationAdapterDto {
  @ApiProperty({ type: 'string', format: 'uuid', required: false })
  id?: string;
  name: string;
  weight?: number;
}

export class GenerationJobDto extends JobTimesDto {
  @ApiUuid()
  id: string;
  status: GenerationStatus;
  mode: GenerationMode;
  backendId: string | null;
  /** The txt2img body as sent to SD.Next. */
  request: Record<string, unknown>;
  composedPrompt: string | null;
  adaptersUsed: GenerationAdapterDto[] | null;
  /** 0..1 */
  progress: number;
  @ApiInteger({ minimum: 0 })
  step: number;
  @ApiInteger({ minimum: 0 })
  steps: number;
  etaSeconds: number | null;
  images: GenerationImageDto[];
  /** SD.Next's `info`, parsed. */
  info: Record<string, unknown> | null;
  @ApiInteger({ nullable: true })
  seed: number | null;
  /** Why it failed or was cancelled. */
  error: string | null;
  @ApiInteger({ minimum: 0 })
  attempts: number;
  cancelRequested: boolean;
}

export class GenerationJobListDto extends OffsetPageDto {
  items: GenerationJobDto[];
}

export class GenerationProgressDto {
  @ApiUuid()
  jobId: string;
  status: GenerationStatus;
  backendId: string | null;
  /** 0..1; reaches 1 only when the images are stored. */
  progress: number;
  @ApiInteger({ minimum: 0 })
  step: number;
  @ApiInteger({ minimum: 0 })
  steps: number;
  etaSeconds: number | null;
}

export class InlineImageDto extends GenerationImageDto {
  /** The image bytes, base64. */
  base64: string;
}

export class SyncGenerationDto {
  job: GenerationJobDto;
  images: InlineImageDto[];
}

/** txt2img parameters for compose-and-generate: the prompt comes from the composition. */
export class ComposeGenerationParamsDto extends OmitType(GenerationRequestDto, ['prompt'] as const) {}

export class ComposeAndGenerateDto {
  @IsDefined()
  @ValidateNested()
  @Type(() => ComposeRequestDto)
  compose: ComposeRequestDto;

  @IsOptionalNonNull()
  @ValidateNested()
  @Type(() => ComposeGenerationParamsDto)
  generation?: ComposeGenerationParamsDto;

  /** Queue the generation and return at once (default), or wait for the images. */
  @IsOptionalNonNull()
  @IsBoolean()
  queued?: boolean;
}

export class ComposeAndGenerateResultDto {
  composition: ComposeResultDto;
  job: GenerationJobDto;
  /** The images, when `queued` was false. */
  images: InlineImageDto[] | null;
}
