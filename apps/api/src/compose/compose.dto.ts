import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsNumber,
  IsPositive,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { IsOptionalNonNull } from '../common/validation.js';
import { ApiExtraModels, ApiProperty, type ApiPropertyOptions, getSchemaPath } from '@nestjs/swagger';
import {
  type ComposedAdapter,
  type CompositionResult,
  type CompositionWarning,
  CompositionWarningCode,
  Dialect,
  type ParsedTag,
  type ParseWarning,
  ParseWarningCode,
  type StepSchedule,
  TriggerWordPolicy,
} from '@app/composition';
import { ApiInteger, ApiUuid } from '../common/api-docs.js';

export class ComposeAdapterDto {
  @IsUUID()
  id: string;

  /** Defaults to the adapter's preferred weight, else 1; checked against its min/max. */
  @IsOptionalNonNull()
  @IsNumber()
  @Min(-10)
  @Max(10)
  weight?: number;

  /** Text-encoder strength when it differs from `weight`. */
  @IsOptionalNonNull()
  @IsNumber()
  @Min(-10)
  @Max(10)
  te?: number;

  /** UNet strength when it differs from `weight`. */
  @IsOptionalNonNull()
  @IsNumber()
  @Min(-10)
  @Max(10)
  unet?: number;
}

export class ComposeRequestDto {
  /**
   * Adapters to use; when omitted or empty, the active adapters in their ordinal order: at most 100 (more are left
   * out with an `active_set_truncated` warning), and a 400 `no_active_adapters` when none is active.
   */
  @IsOptionalNonNull()
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => ComposeAdapterDto)
  adapters?: ComposeAdapterDto[];

  @IsOptionalNonNull()
  @IsString()
  @MaxLength(10_000)
  prefix?: string;

  @IsOptionalNonNull()
  @IsString()
  @MaxLength(10_000)
  suffix?: string;

  @IsOptionalNonNull()
  @IsString()
  @MaxLength(10_000)
  negative?: string;

  /** How the target resolves `<lora:NAME>`: `sdnext` (file name, default) or `a1111` (stem or alias). */
  @IsOptionalNonNull()
  @IsIn(Object.values(Dialect))
  dialect?: Dialect;

  /** `none`, `trained` (Civitai trained words) or `chosen` (the user's picks, else trained; default). */
  @IsOptionalNonNull()
  @IsIn(Object.values(TriggerWordPolicy))
  triggerWords?: TriggerWordPolicy;

  /** Upper bound for the sum of absolute weights; above it, weights are scaled down proportionally. */
  @IsOptionalNonNull()
  @IsNumber()
  @IsPositive()
  @Max(100)
  weightCap?: number;

  /** Base model of the checkpoint in use (e.g. `SDXL 1.0`): adapters for another base get a warning. */
  @IsOptionalNonNull()
  @IsString()
  @MaxLength(64)
  checkpointBaseModel?: string;

  /** Check every token against this backend's LoRA list (`sdnext-0`, …) when it is reachable. */
  @IsOptionalNonNull()
  @IsString()
  @MaxLength(64)
  checkBackend?: string;
}

export class ComposeWarningDto implements CompositionWarning {
  code: CompositionWarningCode;
  message: string;
  @ApiProperty({ type: 'string', format: 'uuid', required: false })
  adapterId?: string;
}

export class ComposedAdapterDto implements ComposedAdapter {
  @ApiUuid()
  id: string;
  /** The name written in the token. */
  name: string;
  displayName: string;
  /** Null when no token could be written (see the `unresolved_name` warning). */
  token: string | null;
  weight: number;
  te: number;
  unet: number;
}

export class ComposeResultDto implements CompositionResult {
  dialect: Dialect;
  prompt: string;
  negativePrompt: string;
  tokens: string[];
  triggerWords: string[];
  adapters: ComposedAdapterDto[];
  warnings: ComposeWarningDto[];
  /** The backend whose LoRA list the tokens were checked against; null when none was (or it was unreachable). */
  checkedAgainst: string | null;
}

export class ParseRequestDto {
  @IsString()
  @MaxLength(20_000)
  prompt: string;

  @IsOptionalNonNull()
  @IsIn(Object.values(Dialect))
  dialect?: Dialect;
}

export class StepPointDto {
  weight: number;
  /** A step number, or a fraction of the run when ≤ 1. */
  step: number;
}

/** An SD.Next step schedule `v@step[,v@step…]`. */
export class StepScheduleDto implements StepSchedule {
  raw: string;
  /** Sorted by step. */
  points: StepPointDto[];
}

/** A strength: a number, or (SD.Next) a step schedule; null when the server cannot read it. */
const multiplier = (description: string): ApiPropertyOptions => ({
  // OpenAPI 3.0 puts `nullable` beside a `type`, so null is allowed by the number branch.
  oneOf: [{ type: 'number', nullable: true }, { $ref: getSchemaPath(StepScheduleDto) }],
  description,
});

@ApiExtraModels(StepScheduleDto)
export class ParsedTokenDto implements ParsedTag {
  /** `lora`, `lyco`, `hypernet`, … */
  type: string;
  name: string;
  isLora: boolean;
  @ApiProperty(multiplier('Strength as the dialect reads it (1 when absent); null when unreadable.'))
  weight: number | StepSchedule | null;
  @ApiProperty(multiplier('Effective text-encoder strength.'))
  te: number | StepSchedule | null;
  @ApiProperty(multiplier('Effective UNet strength.'))
  unet: number | StepSchedule | null;
  /** `dyn` when given (A1111); null when the server cannot read it. */
  dyn?: number | null;
  named: Record<string, string>;
  positional: string[];
  raw: string;
  @ApiInteger({ minimum: 0 })
  start: number;
  @ApiInteger({ minimum: 0 })
  end: number;
}

export class ParseWarningDto implements ParseWarning {
  code: ParseWarningCode;
  message: string;
  @ApiInteger({ minimum: 0 })
  tokenIndex: number;
}

export class ParseResultDto {
  dialect: Dialect;
  tokens: ParsedTokenDto[];
  /** The prompt as the server encodes it: tags removed. */
  text: string;
  warnings: ParseWarningDto[];
}
