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
import { DeliveryStatus, MAX_DELIVERY_PROMPT } from '@app/delivery';
import { Role } from '@app/core';
import { ComposeRequestDto, ComposeResultDto } from '../compose/compose.dto.js';
import { OffsetPageQueryDto } from '../common/page-query.dto.js';

export class CreateDeliveryDto {
  /** The backend: `http`, `cli` (admin only) or `sdnext`; `GET /deliveries/backends` lists them. */
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
   * `{negative}` in args are replaced by the text). sdnext: txt2img fields (`steps`, `width`, `backend_id`, …).
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
  @IsString()
  @MaxLength(32)
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

export class DeliveryJobDto {
  id: string;
  /** The backend that runs it. */
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
  attempts: number;
  rating: number | null;
  favorite: boolean;
  generationJobId: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
}

export class DeliveryJobListDto {
  items: DeliveryJobDto[];
  total: number;
  limit: number;
  offset: number;
}

export class DeliveryBackendDto {
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
