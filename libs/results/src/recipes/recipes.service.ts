import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  APP_CONFIG,
  type AppConfig,
  errorMessage,
  FileStorage,
  InvalidInputError,
  NotFoundError,
  type ThumbnailAnswer,
  ThumbnailService,
  type ThumbnailSize,
} from '@app/core';
import { type ComposeOutcome, CompositionService } from '@app/composition';
import { type GenerationJobEntity, type GenerationRequest, GenerationService } from '@app/generation';
import { GenerationResultRepository } from '../generation-result.repository.js';
import { type ImageMetadata, readImageMetadata } from './image-metadata.js';
import { type MatchedLora, RecipeLoraMatcher, storedLora } from './recipe-loras.js';
import {
  MAX_RECIPE_LORAS,
  type ParsedRecipe,
  type ParseWarning,
  parseComfy,
  parseInfotext,
  type RecipeParameters,
} from './recipe-parsing.js';
import { type RecipeListQuery, RecipeRepository } from './recipe.repository.js';
import { RecipeEntity, type RecipeLora, RecipeSource } from './recipe.entity.js';

/** Largest source image kept with a recipe, in pixels: a bigger header (a decompression bomb) is parsed, not kept. */
export const MAX_KEPT_IMAGE_PIXELS = 64 * 1024 * 1024;
/** Version of the recipe export document; an import of any other is refused. */
export const RECIPE_EXPORT_VERSION = 1;
export const RECIPE_EXPORT_FORMAT = 'lora-manager.recipes';
/** Most recipes one export or import holds. */
export const MAX_RECIPES_PER_DOCUMENT = 1_000;
/**
 * Source image bytes one export document carries (base64 adds a third): recipes past it are exported without their
 * image and named in `imagesOmitted`, so that a document stays importable in one request.
 */
export const RECIPE_DOCUMENT_IMAGE_BUDGET = 24 * 1024 * 1024;

/** A source image inside an export document. */
export interface RecipeImageData {
  contentType: string;
  /** The file's bytes, base64. */
  base64: string;
}

export interface RecipeFields {
  name: string;
  notes?: string | null;
  tags?: string[];
  loras?: {
    adapterId?: string | null;
    name?: string;
    weight: number;
    sha256?: string | null;
    autov2?: string | null;
    hash?: string | null;
  }[];
  prompt?: string;
  negativePrompt?: string | null;
  parameters?: object;
}

/** One recipe of an export document: its fields, and its source image when the document carries it. */
export type ExportedRecipe = RecipeFields & {
  id?: string;
  source?: RecipeSource;
  createdAt?: string;
  image?: RecipeImageData;
};

/** A recipe with each LoRA's standing in the library. */
export interface RecipeView extends Omit<RecipeEntity, 'loras'> {
  loras: MatchedLora[];
  warnings: ParseWarning[];
}

/** What an uploaded image would make, nothing stored. */
export interface RecipePreview {
  image: { format: string; contentType: string; width: number | null; height: number | null; bytes: number };
  origin: ParsedRecipe['origin'];
  name: string;
  prompt: string;
  negativePrompt: string | null;
  parameters: RecipeParameters;
  loras: MatchedLora[];
  /** LoRAs not in the library, with what is known of them (for a later Civitai lookup by hash). */
  missing: MatchedLora[];
  warnings: ParseWarning[];
}

export interface RecipeExport {
  format: typeof RECIPE_EXPORT_FORMAT;
  version: number;
  exportedAt: string;
  recipes: ExportedRecipe[];
  /** Recipes whose image was left out: larger than an upload may be, or past the document's image budget. */
  imagesOmitted: string[];
}

const normaliseTags = (tags: string[]): string[] => [
  ...new Set(tags.map((t) => t.trim().toLowerCase()).filter((t) => t.length > 0)),
];

/** `<lora:…>` tokens out of a prompt: composition writes its own. */
const withoutTokens = (prompt: string): string =>
  prompt
    .replace(/<(lora|lyco):[^<>]*>/gi, '')
    .replace(/[ \t]{2,}/g, ' ')
    .replace(/\s+,/g, ',')
    .replace(/(^[\s,]+)|([\s,]+$)/g, '');

/** Names a recipe's source image for its thumbnails: a recipe's image is set once, when it is made. */
function recipeThumbnailIdentity(row: Pick<RecipeEntity, 'id' | 'imageKey'>): string {
  return `recipe:${row.id}:${row.imageKey}`;
}

@Injectable()
export class RecipesService {
  private readonly logger = new Logger(RecipesService.name);

  constructor(
    private readonly repository: RecipeRepository,
    private readonly results: GenerationResultRepository,
    private readonly matcher: RecipeLoraMatcher,
    private readonly storage: FileStorage,
    private readonly composition: CompositionService,
    private readonly generation: GenerationService,
    private readonly thumbnails: ThumbnailService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Largest upload accepted, in bytes. */
  get maxImageBytes(): number {
    return this.config.recipeImageMaxBytes;
  }

  async create(
    fields: RecipeFields,
    source = RecipeSource.Manual,
    extra: Partial<RecipeEntity> = {},
  ): Promise<RecipeView> {
    const loras = (fields.loras ?? []).map((l): RecipeLora => ({
      adapterId: l.adapterId ?? null,
      name: l.name ?? '',
      weight: l.weight,
      sha256: l.sha256?.toLowerCase() ?? null,
      autov2: l.autov2?.toLowerCase() ?? null,
      hash: l.hash?.toLowerCase() ?? null,
    }));
    const matched = await this.matcher.match(loras);
    const unknownIds = matched.filter((l, i) => loras[i].adapterId && !l.adapterId && !loras[i].name);
    if (unknownIds.length > 0 && source === RecipeSource.Manual) {
      throw InvalidInputError.field(
        'loras',
        `adapter ${loras[matched.indexOf(unknownIds[0])].adapterId} is not in the library`,
        'adapter_not_found',
      );
    }
    const now = new Date();
    const row = Object.assign(new RecipeEntity(), {
      id: randomUUID(),
      name: fields.name.trim(),
      notes: fields.notes ?? null,
      tags: normaliseTags(fields.tags ?? []),
      loras: matched.map(storedLora),
      prompt: fields.prompt ?? '',
      negativePrompt: fields.negativePrompt ?? null,
      parameters: fields.parameters ?? {},
      source,
      sourceResultId: null,
      imageKey: null,
      imageContentType: null,
      createdAt: now,
      updatedAt: now,
      ...extra,
    } satisfies RecipeEntity);
    await this.repository.insertMany([row]);
    return this.view(row, matched);
  }

  /** A recipe from a generation result: its prompts, settings, LoRAs (with the hashes of that time) and image. */
  async fromResult(resultId: string, fields: Partial<RecipeFields>): Promise<RecipeView> {
    const result = await this.results.findById(resultId);
    if (!result) throw new NotFoundError('Result', resultId);
    const sent = result.request as Record<string, unknown>;
    const parameters: Record<string, unknown> = {};
    for (const key of [
      'steps',
      'sampler_name',
      'scheduler',
      'cfg_scale',
      'width',
      'height',
      'clip_skip',
      'denoising_strength',
    ]) {
      if (sent[key] !== undefined && sent[key] !== null) parameters[key] = sent[key];
    }
    if (result.seed !== null) parameters.seed = result.seed;
    if (result.model) parameters.model = result.model;
    return this.create(
      {
        name: fields.name ?? (withoutTokens(result.prompt).slice(0, 80) || `Result ${result.id.slice(0, 8)}`),
        notes: fields.notes ?? result.notes,
        tags: fields.tags ?? result.tags,
        prompt: result.prompt,
        negativePrompt: result.negativePrompt,
        parameters,
        loras: result.loras.map((l) => ({ ...l, hash: null })),
      },
      RecipeSource.Result,
      { sourceResultId: result.id, imageKey: result.storageKey, imageContentType: result.contentType },
    );
  }

  /** Parses an uploaded image into what a recipe would hold, each LoRA mapped to the library; stores nothing. */
  async preview(bytes: Buffer): Promise<RecipePreview> {
    if (bytes.length === 0) throw InvalidInputError.field('image', 'the body is empty', 'empty_upload');
    const meta = readImageMetadata(bytes);
    const parsed = this.parse(meta);
    const loras = await this.matcher.match(
      parsed.loras.map((l) => ({
        adapterId: null,
        name: l.name,
        weight: l.weight,
        sha256: l.hash?.length === 64 ? l.hash : null,
        autov2: l.hash?.length === 10 ? l.hash : null,
        hash: l.hash,
      })),
    );
    const warnings = [...parsed.warnings];
    if (this.tooLargeToKeep(meta)) {
      warnings.push({
        code: 'image_too_large',
        message: `the image claims ${meta.width}×${meta.height} pixels; its metadata is read but the image is not kept`,
      });
    }
    return {
      image: {
        format: meta.format,
        contentType: meta.contentType,
        width: meta.width,
        height: meta.height,
        bytes: bytes.length,
      },
      origin: parsed.origin,
      name: withoutTokens(parsed.prompt).slice(0, 80) || 'Untitled recipe',
      prompt: parsed.prompt,
      negativePrompt: parsed.negativePrompt,
      parameters: parsed.parameters,
      loras,
      missing: loras.filter((l) => !l.adapterId),
      warnings,
    };
  }

  /** Creates a recipe from an uploaded image, keeping the image in storage unless it is too large to. */
  async fromImage(
    bytes: Buffer,
    fields: Partial<RecipeFields> & { keepImage?: boolean },
  ): Promise<RecipeView & { missing: MatchedLora[] }> {
    const preview = await this.preview(bytes);
    const meta = { width: preview.image.width, height: preview.image.height };
    const id = randomUUID();
    let imageKey: string | null = null;
    if (fields.keepImage !== false && !this.tooLargeToKeep(meta)) {
      imageKey = `recipes/${id}.${preview.image.format === 'jpeg' ? 'jpg' : preview.image.format}`;
      await this.storage.put(imageKey, bytes);
    }
    const view = await this.create(
      {
        name: fields.name ?? preview.name,
        notes: fields.notes ?? null,
        tags: fields.tags ?? [],
        prompt: preview.prompt,
        negativePrompt: preview.negativePrompt,
        parameters: { ...preview.parameters },
        loras: preview.loras,
      },
      RecipeSource.Image,
      { id, imageKey, imageContentType: imageKey ? preview.image.contentType : null },
    );
    return { ...view, warnings: preview.warnings, missing: view.loras.filter((l) => !l.adapterId) };
  }

  private tooLargeToKeep(meta: Pick<ImageMetadata, 'width' | 'height'>): boolean {
    return (meta.width ?? 0) * (meta.height ?? 0) > MAX_KEPT_IMAGE_PIXELS;
  }

  private parse(meta: ImageMetadata): ParsedRecipe {
    const comfy = parseComfy(meta.comfyPrompt, meta.comfyWorkflow);
    if (meta.parameters) {
      const a1111 = parseInfotext(meta.parameters);
      // ComfyUI savers that also write `parameters` have the graph's LoRAs; take them when the text has none.
      if (comfy && a1111.loras.length === 0 && comfy.loras.length > 0) return { ...a1111, loras: comfy.loras };
      return a1111;
    }
    if (comfy) return comfy;
    return {
      origin: 'none',
      prompt: '',
      negativePrompt: null,
      parameters: {},
      loras: [],
      warnings: [{ code: 'no_generation_metadata', message: 'the image carries no infotext and no ComfyUI graph' }],
    };
  }

  list(query: RecipeListQuery): Promise<{ items: RecipeEntity[]; total: number }> {
    return this.repository.list({ ...query, tag: query.tag?.trim().toLowerCase() });
  }

  private async row(id: string): Promise<RecipeEntity> {
    const row = await this.repository.findById(id);
    if (!row) throw new NotFoundError('Recipe', id);
    return row;
  }

  /** One recipe with its LoRAs matched again: a LoRA whose adapter left the library relinks by hash or name. */
  async get(id: string): Promise<RecipeView> {
    const row = await this.row(id);
    const matched = await this.matcher.match(row.loras);
    const stored = matched.map(storedLora);
    if (JSON.stringify(stored) !== JSON.stringify(row.loras)) {
      row.loras = stored;
      await this.repository.save(row);
    }
    return this.view(row, matched);
  }

  private view(row: RecipeEntity, matched: MatchedLora[]): RecipeView {
    return { ...row, loras: matched, warnings: [] };
  }

  async update(id: string, fields: Partial<RecipeFields>): Promise<RecipeView> {
    const row = await this.row(id);
    if (fields.name !== undefined) row.name = fields.name.trim();
    if (fields.notes !== undefined) row.notes = fields.notes;
    if (fields.tags !== undefined) row.tags = normaliseTags(fields.tags);
    if (fields.prompt !== undefined) row.prompt = fields.prompt;
    if (fields.negativePrompt !== undefined) row.negativePrompt = fields.negativePrompt;
    if (fields.parameters !== undefined) row.parameters = fields.parameters;
    if (fields.loras !== undefined) {
      row.loras = fields.loras.map((l) => ({
        adapterId: l.adapterId ?? null,
        name: l.name ?? '',
        weight: l.weight,
        sha256: l.sha256 ?? null,
        autov2: l.autov2 ?? null,
        hash: l.hash ?? null,
      }));
    }
    row.updatedAt = new Date();
    await this.repository.save(row);
    return this.get(id);
  }

  /** Deletes the recipe and the image it keeps (not a result's image, which the result owns). */
  async delete(id: string): Promise<void> {
    const row = await this.repository.delete(id);
    if (!row) throw new NotFoundError('Recipe', id);
    if (row.imageKey) await this.thumbnails.discard(recipeThumbnailIdentity(row));
    if (row.imageKey && row.source !== RecipeSource.Result) {
      await this.storage
        .delete(row.imageKey)
        .catch((error: unknown) => this.logger.warn(`Image of recipe ${id} not deleted: ${errorMessage(error)}`));
    }
  }

  async image(id: string): Promise<{ stream: Readable; size: number; contentType: string }> {
    const row = await this.row(id);
    const file = row.imageKey ? await this.storage.open(row.imageKey) : null;
    if (!file) throw new NotFoundError('Recipe image', id, 'recipe_image_not_found');
    return { ...file, contentType: row.imageContentType ?? 'application/octet-stream' };
  }

  /** The source image's WebP thumbnail, made on first request and kept in storage, or `notModified`. */
  async thumbnail(id: string, size: ThumbnailSize, ifNoneMatch?: string): Promise<ThumbnailAnswer> {
    const row = await this.row(id);
    if (!row.imageKey) throw new NotFoundError('Recipe image', id, 'recipe_image_not_found');
    return this.thumbnails.thumbnail(
      { identity: recipeThumbnailIdentity(row), read: async () => (await this.image(id)).stream },
      size,
      ifNoneMatch,
    );
  }

  /** The recipe's prompt composed from the library in a dialect; LoRAs not in the library come back in `missing`. */
  async compose(
    id: string,
    options: { dialect?: string; checkBackend?: string },
  ): Promise<{ composition: ComposeOutcome; missing: MatchedLora[] }> {
    const view = await this.get(id);
    const { compose, missing } = this.composeRequest(view, options.dialect, options.checkBackend);
    return { composition: await this.composition.compose(compose), missing };
  }

  /** Queues a generation with the recipe's prompt and settings (its seed, or a random one); returns the job. */
  async generate(
    id: string,
    options: { dialect?: string; backendId?: string; keepSeed?: boolean },
  ): Promise<{ job: GenerationJobEntity; composition: ComposeOutcome; missing: MatchedLora[] }> {
    const view = await this.get(id);
    const { compose, missing } = this.composeRequest(view, options.dialect);
    const p = view.parameters as Record<string, unknown>;
    const request: Omit<GenerationRequest, 'prompt'> = {};
    for (const key of ['steps', 'cfg_scale', 'width', 'height', 'clip_skip', 'denoising_strength'] as const) {
      if (typeof p[key] === 'number') request[key] = p[key];
    }
    if (typeof p.sampler_name === 'string') request.sampler_name = p.sampler_name;
    if (typeof p.model === 'string') request.checkpoint = p.model;
    request.seed = options.keepSeed && typeof p.seed === 'number' ? p.seed : -1;
    if (options.backendId) request.backend_id = options.backendId;
    const out = await this.generation.composeAndGenerate(compose, request, true);
    return { job: out.job, composition: out.composition, missing };
  }

  private composeRequest(view: RecipeView, dialect?: string, checkBackend?: string) {
    const mapped = view.loras.filter((l) => l.adapterId);
    if (mapped.length === 0) {
      throw InvalidInputError.field('loras', "none of the recipe's LoRAs is in the library", 'recipe_has_no_adapters');
    }
    return {
      compose: {
        adapters: mapped.map((l) => ({ id: l.adapterId as string, weight: l.weight })),
        prefix: withoutTokens(view.prompt),
        negative: view.negativePrompt ?? undefined,
        dialect,
        checkBackend,
      },
      missing: view.loras.filter((l) => !l.adapterId),
    };
  }

  /** The recipes (all, or the listed ids) as one versioned JSON document. Images are not included. */
  async export(ids?: string[]): Promise<RecipeExport> {
    const rows: RecipeEntity[] = [];
    if (ids && ids.length > 0) {
      for (const id of [...new Set(ids)]) rows.push(await this.row(id));
    } else {
      rows.push(...(await this.repository.list({ limit: MAX_RECIPES_PER_DOCUMENT, offset: 0 })).items);
    }
    const imagesOmitted: string[] = [];
    let budget = RECIPE_DOCUMENT_IMAGE_BUDGET;
    const recipes: ExportedRecipe[] = [];
    for (const r of rows) {
      let image: RecipeImageData | undefined;
      const bytes = r.imageKey ? await this.storage.get(r.imageKey) : null;
      if (bytes && bytes.length <= Math.min(budget, this.maxImageBytes)) {
        budget -= bytes.length;
        image = { contentType: r.imageContentType ?? 'application/octet-stream', base64: bytes.toString('base64') };
      } else if (bytes) {
        imagesOmitted.push(r.id);
      }
      recipes.push({
        id: r.id,
        name: r.name,
        notes: r.notes,
        tags: r.tags,
        loras: r.loras,
        prompt: r.prompt,
        negativePrompt: r.negativePrompt,
        parameters: r.parameters,
        source: r.source,
        createdAt: r.createdAt.toISOString(),
        ...(image ? { image } : {}),
      });
    }
    return {
      format: RECIPE_EXPORT_FORMAT,
      version: RECIPE_EXPORT_VERSION,
      exportedAt: new Date().toISOString(),
      recipes,
      imagesOmitted,
    };
  }

  /**
   * A document's source image, checked like an upload (size, a real image, not a decompression bomb): its bytes and
   * what they are. Refused with the recipe's index in the field name.
   */
  private importedImage(image: RecipeImageData, index: number): { bytes: Buffer; format: string; contentType: string } {
    const field = `recipes[${index}].image.base64`;
    const bytes = Buffer.from(image.base64, 'base64');
    if (bytes.length === 0) throw InvalidInputError.field(field, 'is empty', 'empty_upload');
    if (bytes.length > this.maxImageBytes) {
      throw InvalidInputError.field(field, `is larger than ${this.maxImageBytes} bytes`, 'image_too_large');
    }
    let meta: ImageMetadata;
    try {
      meta = readImageMetadata(bytes);
    } catch (error) {
      throw InvalidInputError.field(field, errorMessage(error), 'not_an_image');
    }
    if (this.tooLargeToKeep(meta)) {
      throw InvalidInputError.field(field, `claims ${meta.width}×${meta.height} pixels`, 'image_too_large');
    }
    return { bytes, format: meta.format, contentType: meta.contentType };
  }

  async import(document: { format?: string; version: number; recipes: ExportedRecipe[] }): Promise<RecipeView[]> {
    if (document.version !== RECIPE_EXPORT_VERSION) {
      throw InvalidInputError.field(
        'version',
        `unsupported version ${document.version}; this server reads version ${RECIPE_EXPORT_VERSION}`,
        'unsupported_version',
      );
    }
    if (document.format !== undefined && document.format !== RECIPE_EXPORT_FORMAT) {
      throw InvalidInputError.field('format', `expected ${RECIPE_EXPORT_FORMAT}`, 'unsupported_format');
    }
    for (const recipe of document.recipes) {
      if ((recipe.loras?.length ?? 0) > MAX_RECIPE_LORAS) {
        throw InvalidInputError.field(
          'recipes.loras',
          `at most ${MAX_RECIPE_LORAS} LoRAs per recipe`,
          'too_many_loras',
        );
      }
    }
    // Every image is checked before anything is stored: a bad one refuses the document, not half of it.
    const images = document.recipes.map((recipe, index) =>
      recipe.image ? this.importedImage(recipe.image, index) : null,
    );
    const out: RecipeView[] = [];
    for (const [index, recipe] of document.recipes.entries()) {
      const fields: RecipeFields = {
        name: recipe.name,
        notes: recipe.notes,
        tags: recipe.tags,
        prompt: recipe.prompt,
        negativePrompt: recipe.negativePrompt,
        parameters: recipe.parameters,
        loras: recipe.loras?.map((l) => ({ ...l, adapterId: null })),
      };
      const image = images[index];
      const id = randomUUID();
      let imageKey: string | null = null;
      if (image) {
        imageKey = `recipes/${id}.${image.format === 'jpeg' ? 'jpg' : image.format}`;
        await this.storage.put(imageKey, image.bytes, { contentType: image.contentType });
      }
      out.push(
        await this.create(fields, RecipeSource.Import, {
          id,
          imageKey,
          imageContentType: image?.contentType ?? null,
        }),
      );
    }
    return out;
  }
}
