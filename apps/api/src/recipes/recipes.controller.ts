import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
  StreamableFile,
} from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { InvalidInputError } from '@app/core';
import { type RecipeEntity, type RecipeView, RecipesService } from '@app/results';
import type { Response } from 'express';
import { ApiReadErrors, ApiWriteErrors, ApiImageResponse } from '../common/api-docs.js';
import { ApiThumbnailResponses, sendThumbnail, ThumbnailQueryDto } from '../common/thumbnail-response.js';
import { IMAGE_UPLOAD_TYPES } from '../common/web-access.middleware.js';
import { toGenerationJobDto } from '../generation/generation.mapper.js';
import {
  ComposeRecipeDto,
  CreatedRecipeDto,
  CreateRecipeDto,
  ExportRecipesQueryDto,
  FromImageQueryDto,
  FromResultDto,
  GenerateRecipeDto,
  ImportedRecipesDto,
  ListRecipesQueryDto,
  PatchRecipeDto,
  RecipeComposeResultDto,
  RecipeDocumentDto,
  RecipeDto,
  RecipeGenerateResultDto,
  RecipeListDto,
  RecipeParamsDto,
  RecipePreviewDto,
  RecipeSummaryDto,
} from './recipes.dto.js';

const imageBody = ApiBody({
  description: 'The image file itself as the body (PNG, JPEG or WebP), up to RECIPE_IMAGE_MAX_MB',
  schema: { type: 'string', format: 'binary' },
});

function toRecipeDto(view: RecipeView): RecipeDto {
  return {
    id: view.id,
    name: view.name,
    notes: view.notes,
    tags: view.tags,
    loras: view.loras,
    prompt: view.prompt,
    negativePrompt: view.negativePrompt,
    parameters: view.parameters as Record<string, unknown>,
    source: view.source,
    sourceResultId: view.sourceResultId,
    hasImage: view.imageKey !== null,
    createdAt: view.createdAt.toISOString(),
    updatedAt: view.updatedAt.toISOString(),
  };
}

function toCreatedDto(view: RecipeView): CreatedRecipeDto {
  return { ...toRecipeDto(view), missing: view.loras.filter((l) => !l.adapterId), warnings: view.warnings };
}

function toSummaryDto(row: RecipeEntity | RecipeView): RecipeSummaryDto {
  return {
    id: row.id,
    name: row.name,
    tags: row.tags,
    prompt: row.prompt,
    loraCount: row.loras.length,
    mappedCount: row.loras.filter((l) => l.adapterId).length,
    source: row.source,
    hasImage: row.imageKey !== null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** The uploaded bytes: only an image content type reaches the raw parser; a JSON body's fields are named as refused. */
function uploaded(body: unknown): Buffer {
  if (Buffer.isBuffer(body)) return body;
  const message = `send the image file itself as the body with Content-Type ${IMAGE_UPLOAD_TYPES.join(', ')}`;
  const fields =
    typeof body === 'object' && body !== null && !Array.isArray(body) ? Object.keys(body).slice(0, 20) : [];
  throw new InvalidInputError(`not_an_image`, `image: ${message}`, [
    { field: 'image', message },
    ...fields.map((field) => ({ field, message: 'this route takes an image body, not JSON fields' })),
  ]);
}

@ApiTags('recipes')
@Controller('recipes')
export class RecipesController {
  constructor(private readonly recipes: RecipesService) {}

  /** Recipes, newest first; `q` searches name and prompts, `tag` filters. */
  @Get()
  @ApiOkResponse({ type: RecipeListDto })
  @ApiReadErrors()
  async list(@Query() query: ListRecipesQueryDto): Promise<RecipeListDto> {
    const limit = query.limit ?? 50;
    const offset = query.offset ?? 0;
    const page = await this.recipes.list({ q: query.q, tag: query.tag, limit, offset });
    return { items: page.items.map(toSummaryDto), total: page.total, limit, offset };
  }

  /** A recipe from scratch: LoRAs by adapter id, or by name and hashes (mapped to the library). */
  @Post()
  @ApiCreatedResponse({ type: CreatedRecipeDto })
  @ApiWriteErrors()
  async create(@Body() body: CreateRecipeDto): Promise<CreatedRecipeDto> {
    for (const [i, l] of (body.loras ?? []).entries()) {
      if (!l.adapterId && !l.name) {
        throw InvalidInputError.field(`loras[${i}]`, 'give an adapterId or a name', 'lora_unidentified');
      }
    }
    return toCreatedDto(await this.recipes.create(body));
  }

  /** A recipe from a generation result: its prompts, settings, LoRAs (with their hashes) and image. */
  @Post('from-result')
  @ApiCreatedResponse({ type: CreatedRecipeDto })
  @ApiWriteErrors(404)
  async fromResult(@Body() body: FromResultDto): Promise<CreatedRecipeDto> {
    const { resultId, ...fields } = body;
    return toCreatedDto(await this.recipes.fromResult(resultId, fields));
  }

  /**
   * What an uploaded image would make, nothing stored: A1111/SD.Next infotext (PNG `parameters`, EXIF
   * UserComment) or a ComfyUI graph, each LoRA mapped to the library by hash, then name.
   */
  @Post('parse-image')
  @HttpCode(200)
  @ApiConsumes(...IMAGE_UPLOAD_TYPES)
  @imageBody
  @ApiOkResponse({ type: RecipePreviewDto })
  @ApiWriteErrors()
  async parseImage(@Body() body: unknown): Promise<RecipePreviewDto> {
    const preview = await this.recipes.preview(uploaded(body));
    return { ...preview, parameters: { ...preview.parameters } };
  }

  /** A recipe from an uploaded image (see `parse-image`); the image is kept with it unless `keepImage=false`. */
  @Post('from-image')
  @ApiConsumes(...IMAGE_UPLOAD_TYPES)
  @imageBody
  @ApiCreatedResponse({ type: CreatedRecipeDto })
  @ApiWriteErrors()
  async fromImage(@Body() body: unknown, @Query() query: FromImageQueryDto): Promise<CreatedRecipeDto> {
    const view = await this.recipes.fromImage(uploaded(body), query);
    return toCreatedDto(view);
  }

  /** Recipes as one versioned JSON document (images not included). */
  @Get('export')
  @ApiOkResponse({ type: RecipeDocumentDto })
  @ApiReadErrors(404)
  async export(@Query() query: ExportRecipesQueryDto): Promise<RecipeDocumentDto> {
    return (await this.recipes.export(query.ids)) as RecipeDocumentDto;
  }

  /** Imports an export document (version 1): each recipe is new, its LoRAs relinked to this library by hash, then name. */
  @Post('import')
  @ApiCreatedResponse({ type: ImportedRecipesDto })
  @ApiWriteErrors()
  async import(@Body() body: RecipeDocumentDto): Promise<ImportedRecipesDto> {
    const views = await this.recipes.import(body);
    return {
      imported: views.length,
      items: views.map((v) => toSummaryDto(v)),
    };
  }

  /** One recipe; LoRAs whose adapter left the library are relinked by hash or name when possible. */
  @Get(':id')
  @ApiOkResponse({ type: RecipeDto })
  @ApiReadErrors(404)
  async get(@Param() params: RecipeParamsDto): Promise<RecipeDto> {
    return toRecipeDto(await this.recipes.get(params.id));
  }

  /** The recipe's source image. */
  @Get(':id/image')
  @ApiImageResponse()
  @ApiReadErrors(404)
  async image(@Param() params: RecipeParamsDto, @Res({ passthrough: true }) res: Response): Promise<StreamableFile> {
    const image = await this.recipes.image(params.id);
    res.setHeader('Cache-Control', 'private, max-age=3600');
    return new StreamableFile(image.stream, { type: image.contentType, length: image.size });
  }

  /** A WebP thumbnail of the source image (256 or 768 px on the long side), made on first request and kept. */
  @Get(':id/thumbnail')
  @ApiThumbnailResponses()
  @ApiReadErrors(404, 422)
  async thumbnail(
    @Param() params: RecipeParamsDto,
    @Query() query: ThumbnailQueryDto,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile | undefined> {
    const answer = await this.recipes.thumbnail(params.id, query.size ?? 256, ifNoneMatch);
    return sendThumbnail(answer, res, 'private, max-age=3600');
  }

  /** Changes any field; `loras` and `tags` are replaced. */
  @Patch(':id')
  @ApiOkResponse({ type: RecipeDto })
  @ApiWriteErrors(404)
  async patch(@Param() params: RecipeParamsDto, @Body() body: PatchRecipeDto): Promise<RecipeDto> {
    return toRecipeDto(await this.recipes.update(params.id, body));
  }

  /** Deletes the recipe and the image it keeps. */
  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiReadErrors(404)
  async delete(@Param() params: RecipeParamsDto): Promise<void> {
    await this.recipes.delete(params.id);
  }

  /** The recipe's prompt composed from the library (target dialect); LoRAs not in the library are listed. */
  @Post(':id/compose')
  @HttpCode(200)
  @ApiOkResponse({ type: RecipeComposeResultDto })
  @ApiWriteErrors(404)
  compose(@Param() params: RecipeParamsDto, @Body() body: ComposeRecipeDto): Promise<RecipeComposeResultDto> {
    return this.recipes.compose(params.id, body);
  }

  /** Queues a generation with the recipe (composed prompt, its settings; its seed with `keepSeed`). */
  @Post(':id/generate')
  @ApiCreatedResponse({ type: RecipeGenerateResultDto })
  @ApiWriteErrors(404, 502, 504)
  async generate(@Param() params: RecipeParamsDto, @Body() body: GenerateRecipeDto): Promise<RecipeGenerateResultDto> {
    const out = await this.recipes.generate(params.id, body);
    return { composition: out.composition, missing: out.missing, job: toGenerationJobDto(out.job) };
  }
}
