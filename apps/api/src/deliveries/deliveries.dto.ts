import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { IsOptionalNonNull } from '../common/validation.js';
import type { Type as Class } from '@nestjs/common';
import { ApiProperty, OmitType } from '@nestjs/swagger';
import {
  CLI_DELIVERY_MAX_TIMEOUT_MS,
  type DeliveryBackendInfo,
  DeliveryMode,
  DeliveryStatus,
  HTTP_DELIVERY_MAX_TIMEOUT_MS,
  MAX_DELIVERY_PROMPT,
} from '@app/delivery';
import { Role } from '@app/core';
import { ComposeRequestDto, ComposeResultDto } from '../compose/compose.dto.js';
import { OffsetPageQueryDto } from '../common/page-query.dto.js';
import { JobTimesDto, OffsetPageDto } from '../common/list-page.dto.js';
import { registerDiscriminatedUnion } from '../common/openapi.js';
import { GenerationRequestDto } from '../generation/generation.dto.js';
import { ApiDateTime, ApiInteger, ApiUuid } from '../common/api-docs.js';

export class CreateDeliveryDto {
  /** The backend: `http`, `cli` (admin only) or `sdnext`; `GET /deliveries/backends` lists them. */
  @ApiProperty({ enum: DeliveryMode })
  @IsString()
  @MaxLength(32)
  mode: string;

  /** @example a watercolor fox <lora:Watercolor:0.8> */
  @IsOptionalNonNull()
  @IsString()
  @MaxLength(MAX_DELIVERY_PROMPT)
  prompt?: string;

  @IsOptionalNonNull()
  @IsString()
  @MaxLength(MAX_DELIVERY_PROMPT)
  negativePrompt?: string;

  /** Instead of `prompt`: a composition spec (as `POST /compose` takes), composed now; its prompts are delivered. */
  @IsOptionalNonNull()
  @ValidateNested()
  @Type(() => ComposeRequestDto)
  composition?: ComposeRequestDto;

  /**
   * The backend's parameters. http: `{ url, timeoutMs? }` (url under a `DELIVERY_HTTP_ALLOW` prefix). cli:
   * `{ command, args?, stdin?, timeoutMs? }` (command exactly one of `DELIVERY_CLI_COMMANDS`; `{prompt}` and
   * `{negative}` in args are replaced by the text; the prompt goes to stdin unless an argument holds `{prompt}`). sdnext: txt2img fields (`steps`, `width`, `backend_id`, …).
   */
  @IsOptionalNonNull()
  @IsObject()
  params?: Record<string, unknown>;
}

export class DeliveryParamsDto {
  @IsUUID()
  id: string;
}

const toBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

export class ListDeliveriesQueryDto extends OffsetPageQueryDto {
  @IsOptional()
  @IsIn(Object.values(DeliveryStatus))
  status?: DeliveryStatus;

  @IsOptional()
  @ApiProperty({ enum: DeliveryMode, required: false })
  @IsIn(Object.values(DeliveryMode))
  mode?: string;

  /** `true` or `false`. */
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  favorite?: boolean;
}

export class PatchDeliveryDto {
  /** 0–5; null clears it. */
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(5)
  rating?: number | null;

  @IsOptionalNonNull()
  @IsBoolean()
  favorite?: boolean;
}

export class DeliveryJobDto extends JobTimesDto {
  @ApiUuid()
  id: string;
  /** The backend that runs it. */
  @ApiProperty({ enum: DeliveryMode })
  mode: string;
  status: DeliveryStatus;
  prompt: string;
  negativePrompt: string | null;
  /** The backend's parameters as validated. */
  params: Record<string, unknown>;
  /** http: status, body, truncated; cli: exitCode, stdout, stderr, timedOut; sdnext: generationJobId, images. */
  result: Record<string, unknown> | null;
  /** Why it failed or was cancelled, or why the last attempt failed while a retry waits. */
  error: string | null;
  @ApiInteger({ minimum: 0 })
  attempts: number;
  @ApiInteger({ minimum: 0, maximum: 5, nullable: true })
  rating: number | null;
  favorite: boolean;
  @ApiUuid({ nullable: true })
  generationJobId: string | null;
  @ApiDateTime()
  updatedAt: string;
}

export class DeliveryJobListDto extends OffsetPageDto {
  items: DeliveryJobDto[];
}

export class DeliveryBackendDto implements DeliveryBackendInfo {
  /** @example http */
  name: string;
  /** URL prefixes (http), executables (cli) or SD.Next backend ids (sdnext). */
  allowList: string[];
  /** The least role that may create deliveries with this backend. */
  requiredRole: Role;
}

/** The `delivery` block of `POST /compose`: the composed prompt is also delivered with this backend. */
export class ComposeDeliveryDto {
  /** `http`, `cli` (admin only) or `sdnext`. */
  @ApiProperty({ enum: DeliveryMode })
  @IsString()
  @MaxLength(32)
  mode: string;

  /** The backend's parameters, as in `POST /deliveries`. */
  @IsOptionalNonNull()
  @IsObject()
  params?: Record<string, unknown>;
}

export class ComposeAndDeliverRequestDto extends ComposeRequestDto {
  /** Also create a delivery of the composed prompt (the seed's behaviour). */
  @IsOptionalNonNull()
  @ValidateNested()
  @Type(() => ComposeDeliveryDto)
  delivery?: ComposeDeliveryDto;
}

export class ComposeAndDeliverResultDto extends ComposeResultDto {
  /** The delivery created from the `delivery` block, when one was given. */
  delivery?: DeliveryJobDto;
}

/** `params` of an `http` delivery. */
export class HttpDeliveryParamsDto {
  /** Where to POST `{ prompt, negativePrompt, params, deliveryId }`: under a `DELIVERY_HTTP_ALLOW` prefix. */
  @ApiProperty({ maxLength: 2048 })
  url: string;
  @ApiProperty({ type: 'integer', minimum: 100, maximum: HTTP_DELIVERY_MAX_TIMEOUT_MS, required: false })
  timeoutMs?: number;
}

/** `params` of a `cli` delivery. */
export class CliDeliveryParamsDto {
  /** Exactly one of `DELIVERY_CLI_COMMANDS`. Null in answers to roles below admin (redacted). */
  @ApiProperty({ type: 'string', maxLength: 4096, nullable: true })
  command: string | null;
  /** Arguments; `{prompt}` and `{negative}` inside one are replaced by the text. Null when redacted. */
  @ApiProperty({ type: 'string', isArray: true, maxItems: 64, maxLength: 4096, required: false, nullable: true })
  args?: string[] | null;
  /**
   * Write the prompt to the program's standard input. Default: true unless an argument holds `{prompt}`; false with
   * no such argument is refused (the program would never get the prompt).
   */
  stdin?: boolean;
  @ApiProperty({ type: 'integer', minimum: 100, maximum: CLI_DELIVERY_MAX_TIMEOUT_MS, required: false })
  timeoutMs?: number;
}

/** `params` of an `sdnext` delivery: txt2img fields; the prompts come from the delivery. */
export class SdNextDeliveryParamsDto extends OmitType(GenerationRequestDto, ['prompt', 'negative_prompt'] as const) {}

const PARAMS_BY_MODE: Record<DeliveryMode, { type: Class<unknown>; required: boolean }> = {
  [DeliveryMode.Http]: { type: HttpDeliveryParamsDto, required: true },
  [DeliveryMode.Cli]: { type: CliDeliveryParamsDto, required: true },
  [DeliveryMode.SdNext]: { type: SdNextDeliveryParamsDto, required: false },
};

const MODE_LABELS: Record<DeliveryMode, string> = {
  [DeliveryMode.Http]: 'Http',
  [DeliveryMode.Cli]: 'Cli',
  [DeliveryMode.SdNext]: 'SdNext',
};

/**
 * In the OpenAPI document, a model with `mode` and `params` is a `oneOf` of one model per mode, each with its
 * `params` schema; the server keeps one class and each backend validates its own params.
 */
function documentPerMode(
  base: Class<{ mode: string; params?: Record<string, unknown> | null }>,
  name: string,
  paramsAlways = false,
): void {
  const mapping = Object.fromEntries(
    Object.values(DeliveryMode).map((mode) => {
      const params = PARAMS_BY_MODE[mode];
      class Variant extends OmitType(base, ['mode', 'params'] as const) {
        @ApiProperty({ enum: [mode] })
        mode: string;
        @ApiProperty({ type: params.type, required: paramsAlways || params.required })
        params: unknown;
      }
      Object.defineProperty(Variant, 'name', { value: `${MODE_LABELS[mode]}${name}` });
      return [mode, Variant];
    }),
  );
  registerDiscriminatedUnion({ schema: name, propertyName: 'mode', mapping });
}

documentPerMode(CreateDeliveryDto, 'CreateDeliveryDto');
documentPerMode(ComposeDeliveryDto, 'ComposeDeliveryDto');
documentPerMode(DeliveryJobDto, 'DeliveryJobDto', true);
