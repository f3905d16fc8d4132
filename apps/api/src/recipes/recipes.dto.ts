import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBase64,
  IsBoolean,
  IsDateString,
  IsDefined,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
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
import {
  MAX_RECIPE_LORAS,
  MAX_RECIPES_PER_DOCUMENT,
  RECIPE_DOCUMENT_IMAGE_BUDGET,
  type RecipeImageData,
  type LoraMatch,
  type MatchedLora,
  RecipeSource,
} from '@app/results';
import { IsOptionalNonNull } from '../common/validation.js';
import { ApiDateTime, ApiUuid } from '../common/api-docs.js';
import { OffsetPageDto } from '../common/list-page.dto.js';
import { OffsetPageQueryDto } from '../common/page-query.dto.js';
import { ComposeResultDto } from '../compose/compose.dto.js';
import { GenerationJobDto } from '../generation/generation.dto.js';

const TAG = /^[^,\n\r]+$/;
const HASH = /^[0-9a-fA-F]{8,64}$/;
const LORA_MATCHES: LoraMatch[] = ['id', 'hash', 'name', 'ambiguous', 'missing'];

const toBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;
const toList = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v)
    : value;

export class RecipeParamsDto {
  @IsUUID()
  id: string;
}

/** One LoRA of a recipe as a client sends it: an adapter id, or a name and hashes to find it by. */
export class RecipeLoraInputDto {
  @ApiUuid({ nullable: true })
  @IsOptional()
  @IsUUID()
  adapterId?: string | null;

  /** Token name or file stem; needed when no adapter id is given. */
  @IsOptionalNonNull()
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  name?: string;

  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-10)
  @Max(10)
  weight: number;

  @IsOptional()
  @IsString()
  @Matches(/^[0-9a-fA-F]{64}$/)
  sha256?: string | null;

  @IsOptional()
  @IsString()
  @Matches(/^[0-9a-fA-F]{10}$/)
  autov2?: string | null;

  /** A short hash from an image's `Lora hashes` (8–64 hex). */
  @IsOptional()
  @IsString()
  @Matches(HASH)
  hash?: string | null;
}

class RecipeFieldsDto {
  @IsOptional()
  @IsString()
  @MaxLength(10_000)
  notes?: string | null;

  @IsOptionalNonNull()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(64, { each: true })
  @Matches(TAG, { each: true })
  tags?: string[];

  @IsOptionalNonNull()
  @IsArray()
  @ArrayMaxSize(MAX_RECIPE_LORAS)
  @ValidateNested({ each: true })
  @Type(() => RecipeLoraInputDto)
  loras?: RecipeLoraInputDto[];

  @IsOptionalNonNull()
  @IsString()
  @MaxLength(20_000)
  prompt?: string;

  @IsOptional()
  @IsString()
  @MaxLength(20_000)
  negativePrompt?: string | null;

  /** Generation settings (request wire names: `steps`, `sampler_name`, `cfg_scale`, `seed`, `width`, `height`, `model`, …). */
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  @IsOptionalNonNull()
  @IsObject()
  parameters?: Record<string, unknown>;
}

export class CreateRecipeDto extends RecipeFieldsDto {
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name: string;
}

export class PatchRecipeDto extends RecipeFieldsDto {
  @IsOptionalNonNull()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;
}

export class FromResultDto {
  /** The generation result to save. */
  @IsUUID()
  resultId: string;

  @IsOptionalNonNull()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  @IsOptionalNonNull()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  @Matches(TAG, { each: true })
  tags?: string[];

  @IsOptionalNonNull()
  @IsString()
  @MaxLength(10_000)
  notes?: string;
}

export class FromImageQueryDto {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name?: string;

  /** Comma-separated. */
  @IsOptional()
  @Transform(toList)
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  tags?: string[];

  /** Keep the image with the recipe (default `true`). */
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  keepImage?: boolean;
}

export class ListRecipesQueryDto extends OffsetPageQueryDto {
  /** Text in the name, the prompt or the negative prompt. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  q?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  tag?: string;
}

export class RecipeLoraDto implements MatchedLora {
  @ApiUuid({ nullable: true })
  adapterId: string | null;
  name: string;
  weight: number;
  sha256: string | null;
  autov2: string | null;
  hash: string | null;
  /** How it was found: `id` (still linked), `hash`, `name`; `ambiguous` (several files claim the name) or `missing`. */
  @ApiProperty({ enum: LORA_MATCHES, enumName: 'RecipeLoraMatch' })
  match: LoraMatch;
  adapterName: string | null;
}

export class RecipeWarningDto {
  code: string;
  message: string;
}

export class RecipeDto {
  @ApiUuid()
  id: string;
  name: string;
  notes: string | null;
  tags: string[];
  loras: RecipeLoraDto[];
  prompt: string;
  negativePrompt: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true })
  parameters: Record<string, unknown>;
  @ApiProperty({ enum: RecipeSource, enumName: 'RecipeSource' })
  source: RecipeSource;
  @ApiUuid({ nullable: true })
  sourceResultId: string | null;
  /** Whether `GET /recipes/{id}/image` has an image. */
  hasImage: boolean;
  @ApiDateTime()
  createdAt: string;
  @ApiDateTime()
  updatedAt: string;
}

/** A list row: the LoRAs as stored (no library lookup). */
export class RecipeSummaryDto {
  @ApiUuid()
  id: string;
  name: string;
  tags: string[];
  prompt: string;
  /** How many LoRAs, and how many of them were linked to a library adapter when last read. */
  loraCount: number;
  mappedCount: number;
  @ApiProperty({ enum: RecipeSource, enumName: 'RecipeSource' })
  source: RecipeSource;
  hasImage: boolean;
  @ApiDateTime()
  createdAt: string;
}

export class RecipeListDto extends OffsetPageDto {
  items: RecipeSummaryDto[];
}

export class CreatedRecipeDto extends RecipeDto {
  /** LoRAs not in the library, with what is known (hash, name, weight) for a later Civitai lookup. */
  missing: RecipeLoraDto[];
  warnings: RecipeWarningDto[];
}

export class ImageFactsDto {
  format: string;
  contentType: string;
  width: number | null;
  height: number | null;
  bytes: number;
}

export class RecipePreviewDto {
  image: ImageFactsDto;
  /** `a1111` (infotext), `comfyui` (graph) or `none`. */
  @ApiProperty({ enum: ['a1111', 'comfyui', 'none'] })
  origin: 'a1111' | 'comfyui' | 'none';
  /** A name suggestion (the start of the prompt). */
  name: string;
  prompt: string;
  negativePrompt: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true })
  parameters: Record<string, unknown>;
  loras: RecipeLoraDto[];
  missing: RecipeLoraDto[];
  warnings: RecipeWarningDto[];
}

export class ComposeRecipeDto {
  /** `sdnext` (default) or `a1111`. */
  @IsOptionalNonNull()
  @IsString()
  @MaxLength(16)
  dialect?: string;

  @IsOptionalNonNull()
  @IsString()
  @MaxLength(64)
  checkBackend?: string;
}

export class GenerateRecipeDto {
  @IsOptionalNonNull()
  @IsString()
  @MaxLength(16)
  dialect?: string;

  @IsOptionalNonNull()
  @IsString()
  @MaxLength(64)
  backendId?: string;

  /** Use the recipe's seed (default false: a random one). */
  @IsOptionalNonNull()
  @IsBoolean()
  keepSeed?: boolean;
}

export class RecipeComposeResultDto {
  composition: ComposeResultDto;
  /** LoRAs of the recipe left out because they are not in the library. */
  missing: RecipeLoraDto[];
}

export class RecipeGenerateResultDto extends RecipeComposeResultDto {
  job: GenerationJobDto;
}

export class ExportRecipesQueryDto {
  /** Comma-separated recipe ids; all recipes (up to 1,000) when absent. */
  @IsOptional()
  @Transform(toList)
  @IsArray()
  @ArrayMaxSize(MAX_RECIPES_PER_DOCUMENT)
  @IsUUID('all', { each: true })
  ids?: string[];
}

/** A recipe's source image inside an export document (at most the upload size, `RECIPE_IMAGE_MAX_MB`). */
export class RecipeImageDataDto implements RecipeImageData {
  /** As exported; an import reads the bytes to tell what they are. */
  @IsString()
  @MaxLength(64)
  contentType: string;

  /** The image file's bytes, base64. */
  @IsString()
  @IsBase64()
  @MaxLength(Math.ceil((RECIPE_DOCUMENT_IMAGE_BUDGET * 4) / 3) + 4)
  base64: string;
}

export class ExportedRecipeDto extends CreateRecipeDto {
  @ApiUuid()
  @IsOptionalNonNull()
  @IsUUID()
  id?: string;

  @ApiProperty({ enum: RecipeSource, enumName: 'RecipeSource', required: false })
  @IsOptionalNonNull()
  @IsIn(Object.values(RecipeSource))
  source?: RecipeSource;

  @ApiPropertyOptional({ type: 'string', format: 'date-time' })
  @IsOptionalNonNull()
  @IsDateString()
  createdAt?: string;

  /** The source image, when the recipe has one and the document carries it (see `imagesOmitted`). */
  @IsOptionalNonNull()
  @ValidateNested()
  @Type(() => RecipeImageDataDto)
  image?: RecipeImageDataDto;
}

export class RecipeDocumentDto {
  /** `lora-manager.recipes`. */
  @IsOptionalNonNull()
  @IsString()
  @MaxLength(64)
  format?: string;

  /** 1. */
  @IsDefined()
  @IsInt()
  version: number;

  @ApiPropertyOptional({ type: 'string', format: 'date-time' })
  @IsOptionalNonNull()
  @IsDateString()
  exportedAt?: string;

  @IsArray()
  @ArrayMaxSize(MAX_RECIPES_PER_DOCUMENT)
  @ValidateNested({ each: true })
  @Type(() => ExportedRecipeDto)
  recipes: ExportedRecipeDto[];

  /**
   * Recipes exported without their image: larger than an upload may be, or past the document's 24 MiB of images
   * (export those by `ids` in smaller documents). Ignored on import.
   */
  @ApiPropertyOptional({ type: [String], format: 'uuid' })
  @IsOptionalNonNull()
  @IsArray()
  @ArrayMaxSize(MAX_RECIPES_PER_DOCUMENT)
  @IsUUID('all', { each: true })
  imagesOmitted?: string[];
}

export class ImportedRecipesDto {
  imported: number;
  items: RecipeSummaryDto[];
}
