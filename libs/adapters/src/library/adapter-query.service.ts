import type { FileHandle } from 'node:fs/promises';
import { extname } from 'node:path';
import { Injectable } from '@nestjs/common';
import { InvalidInputError, NotFoundError } from '@app/core';
import { readHandleOf } from '../reading/read-handle.js';
import { type EmbeddedPreview, readSafetensorsHeaderFrom } from '../reading/safetensors-header.js';
import { EmbeddedPreviewCache } from './embedded-preview-cache.js';
import { AdapterUserField, deriveUserColumns, normaliseTag, normaliseTags } from './adapter-fields.js';
import { searchTermsOf } from './adapter-search.js';
import { resolveBaseModelFilter } from './base-model-filter.js';
import { AdapterEntity } from './adapter.entity.js';
import {
  AdapterBulkAction,
  AdapterFacet,
  type AdapterFacets,
  type AdapterFilter,
  type AdapterListQuery,
  type AdapterListWarning,
  AdapterListWarningCode,
  type AdapterPage,
  type AdapterPatch,
  AdapterSort,
  type BulkResult,
  DEFAULT_PAGE_LIMIT,
  type DuplicateGroup,
  MAX_BULK_IDS,
  MAX_FILTER_VALUES,
  MAX_PAGE_LIMIT,
  NSFW_MAX_LEVELS,
  SortOrder,
  TAG_FACET_LIMIT,
  TagMode,
  type ValueCount,
} from './adapter-query.model.js';
import { AdapterQueryRepository } from './adapter-query.repository.js';
import { AdapterRepository } from './adapter.repository.js';
import { LibraryRoots } from './library-roots.js';

const PREVIEW_TYPES: Readonly<Record<string, string>> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.gif': 'image/gif',
  '.avif': 'image/avif',
  '.jxl': 'image/jxl',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.jp2': 'image/jp2',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
};

/** The largest header read to serve an embedded preview: an image of SwarmUI's 8 MiB cap and the usual metadata. */
const EMBEDDED_PREVIEW_MAX_HEADER_BYTES = 24 * 1024 * 1024;

/**
 * A preview to serve: a file beside the LoRA, opened (stream `handle`; it closes when the stream ends), or an image
 * embedded in the LoRA's header.
 */
/** A preview's bytes (a handle to read, or decoded bytes) and `version`, which changes whenever its bytes may have. */
export type AdapterPreviewFile = { contentType: string; version: string } & (
  { handle: FileHandle; size: number } | { bytes: Buffer }
);

const WEIGHT_FIELDS = ['weightMin', 'preferredWeight', 'weightMax'] as const;

const invalid = (field: string, message: string): InvalidInputError => InvalidInputError.field(field, message);

/** The rules of querying and editing the adapter library: validation, derived fields, `userEdited`. */
@Injectable()
export class AdapterQueryService {
  private readonly embeddedPreviews = new EmbeddedPreviewCache();

  constructor(
    private readonly repo: AdapterQueryRepository,
    private readonly edits: AdapterRepository,
    private readonly roots: LibraryRoots,
  ) {}

  /** A list page; `withUpdates` holds the ids of its adapters with a Civitai update (`civitai_updates`). */
  async list(query: AdapterListQuery): Promise<AdapterPage<AdapterEntity> & { withUpdates: ReadonlySet<string> }> {
    const filter = this.toFilter(query);
    const warnings = await this.resolveBaseModels(filter);
    const sort = query.sort ?? (filter.searchTerms ? AdapterSort.Relevance : AdapterSort.Name);
    if (!Object.values(AdapterSort).includes(sort))
      throw invalid('sort', `must be one of ${Object.values(AdapterSort).join(', ')}`);
    if (sort === AdapterSort.Relevance && !filter.searchTerms) throw invalid('sort', 'relevance needs a search (q)');
    const order = query.order ?? (sort === AdapterSort.Name ? SortOrder.Asc : SortOrder.Desc);
    if (!Object.values(SortOrder).includes(order)) throw invalid('order', 'must be asc or desc');
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT)
      throw invalid('limit', `must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
    const page = query.page ?? 1;
    if (!Number.isInteger(page) || page < 1) throw invalid('page', 'must be an integer of 1 or more');

    const {
      total,
      facets: counted,
      ...rowsOfPage
    } = await this.repo.listPage(
      filter,
      { sort, order, offset: (page - 1) * limit, limit },
      query.facets?.length ? TAG_FACET_LIMIT : undefined,
    );
    const pages = Math.ceil(total / limit);
    if (page > Math.max(pages, 1))
      throw invalid('page', `out of range: ${pages} page(s) of ${limit} for ${total} adapter(s)`);
    const { items, withUpdates } = await this.repo.findPageSummaries(rowsOfPage);
    const facets: AdapterFacets | undefined = counted && {
      ...(query.facets!.includes(AdapterFacet.BaseModel) ? { baseModel: counted.baseModel } : {}),
      ...(query.facets!.includes(AdapterFacet.Tags) ? { tags: counted.tags } : {}),
    };
    return { items, total, page, limit, pages, sort, order, ...(facets ? { facets } : {}), warnings, withUpdates };
  }

  /**
   * Turns the filter's base models into the spellings the library stores (any case, aliases such as `sdxl` or
   * `pony`), and warns of each value that names no base model at all.
   */
  private async resolveBaseModels(filter: AdapterFilter): Promise<AdapterListWarning[]> {
    if (!filter.baseModels) return [];
    const stored = (await this.repo.baseModelCounts()).map((c) => c.value);
    const { baseModels, unmatched } = resolveBaseModelFilter(filter.baseModels, stored);
    filter.baseModels = baseModels;
    return unmatched.map((value) => ({
      code: AdapterListWarningCode.UnknownBaseModel,
      field: 'baseModel',
      value,
      message:
        `baseModel ${JSON.stringify(value)} is no known base model and no adapter has it, so it matches nothing; ` +
        'use a name from GET /api/v1/adapters/base-models (any case) or an alias such as sdxl, pony, sd15, flux',
    }));
  }

  async get(id: string): Promise<AdapterEntity> {
    const adapter = await this.repo.findById(id);
    if (!adapter) throw new NotFoundError('Adapter', id);
    return adapter;
  }

  /** Applies a user's edit; each field given joins `userEdited` so that a resync keeps it. */
  async patch(id: string, patch: AdapterPatch, now = new Date()): Promise<AdapterEntity> {
    const fields = (Object.keys(patch) as (keyof AdapterPatch)[]).filter((k) => patch[k] !== undefined);
    if (fields.length === 0) throw new InvalidInputError('empty_patch', 'Give at least one field to change');
    const adapter = await this.get(id);
    const next: AdapterEntity = { ...adapter };

    if (patch.name !== undefined) {
      const name = patch.name.trim();
      if (!name) throw invalid('name', 'must not be empty');
      next.name = name;
    }
    if (patch.baseModel !== undefined) {
      const baseModel = patch.baseModel.trim();
      if (!baseModel) throw invalid('baseModel', 'must not be empty');
      next.baseModel = baseModel;
    }
    if (patch.triggerWords !== undefined) {
      next.triggerWords = [...new Set(patch.triggerWords.map((w) => w.trim()).filter((w) => w.length > 0))];
    }
    let tags: string[] | undefined;
    if (patch.tags !== undefined) {
      tags = normaliseTags(patch.tags);
      next.tags = tags;
    }
    for (const key of WEIGHT_FIELDS) if (patch[key] !== undefined) next[key] = patch[key];
    this.checkWeights(next);
    if (patch.notes !== undefined) next.notes = patch.notes;
    if (patch.favorite !== undefined) next.favorite = patch.favorite;
    if (patch.active !== undefined) next.active = patch.active;
    if (patch.ordinal !== undefined) next.ordinal = patch.ordinal;
    if (patch.nsfwOverride !== undefined) {
      if (
        patch.nsfwOverride !== null &&
        !(Number.isInteger(patch.nsfwOverride) && patch.nsfwOverride >= 0 && patch.nsfwOverride <= 63)
      ) {
        throw invalid('nsfwOverride', 'must be a Civitai nsfw bitmask from 0 to 63, or null');
      }
      next.nsfwOverride = patch.nsfwOverride;
    }

    next.userEdited = [...new Set([...adapter.userEdited, ...fields.map((f) => f as AdapterUserField)])];
    deriveUserColumns(next);
    next.updatedAt = now;
    await this.edits.saveEdit(
      id,
      {
        name: next.name,
        sortName: next.sortName,
        baseModel: next.baseModel,
        triggerWords: next.triggerWords,
        tags: next.tags,
        preferredWeight: next.preferredWeight,
        weightMin: next.weightMin,
        weightMax: next.weightMax,
        notes: next.notes,
        favorite: next.favorite,
        active: next.active,
        ordinal: next.ordinal,
        nsfwOverride: next.nsfwOverride,
        nsfwMax: next.nsfwMax,
        searchText: next.searchText,
        userEdited: next.userEdited,
        updatedAt: next.updatedAt,
      },
      tags,
      fields as AdapterUserField[],
    );
    return next;
  }

  async remove(id: string): Promise<void> {
    const deleted = await this.edits.deleteMany([id]);
    if (deleted.length === 0) throw new NotFoundError('Adapter', id);
  }

  async setActive(id: string, active: boolean, ordinal?: number | null): Promise<AdapterEntity> {
    return this.patch(id, ordinal === undefined ? { active } : { active, ordinal });
  }

  /** One action over many adapters, in one transaction; unknown ids are reported, not fatal. */
  async bulk(action: AdapterBulkAction, ids: readonly string[], now = new Date()): Promise<BulkResult> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) throw invalid('ids', 'must not be empty');
    if (unique.length > MAX_BULK_IDS) throw invalid('ids', `at most ${MAX_BULK_IDS} ids`);
    let done: string[];
    switch (action) {
      case AdapterBulkAction.Delete:
        done = await this.edits.deleteMany(unique, now);
        break;
      case AdapterBulkAction.Activate:
      case AdapterBulkAction.Deactivate:
        done = await this.edits.setFlag(
          unique,
          'active',
          action === AdapterBulkAction.Activate,
          AdapterUserField.Active,
          now,
        );
        break;
      case AdapterBulkAction.Favorite:
      case AdapterBulkAction.Unfavorite:
        done = await this.edits.setFlag(
          unique,
          'favorite',
          action === AdapterBulkAction.Favorite,
          AdapterUserField.Favorite,
          now,
        );
        break;
      default:
        throw invalid('action', `must be one of ${Object.values(AdapterBulkAction).join(', ')}`);
    }
    const found = new Set(done);
    return { action, affected: done.length, notFound: unique.filter((id) => !found.has(id)) };
  }

  tags(limit = 100, prefix?: string): Promise<ValueCount[]> {
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw invalid('limit', 'must be an integer from 1 to 1000');
    const p = prefix?.trim() ? normaliseTag(prefix) : undefined;
    return this.repo.tagCounts(limit, p);
  }

  baseModels(): Promise<ValueCount[]> {
    return this.repo.baseModelCounts();
  }

  /**
   * Groups of present adapters with the same SHA-256 (two or more members each). `verifiedOnly`: only hashes
   * computed from the files, never a sidecar's claim.
   */
  async duplicates(
    page = 1,
    limit = DEFAULT_PAGE_LIMIT,
    verifiedOnly = false,
  ): Promise<{ total: number; page: number; limit: number; groups: DuplicateGroup<AdapterEntity>[] }> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT)
      throw invalid('limit', `must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
    if (!Number.isInteger(page) || page < 1) throw invalid('page', 'must be an integer of 1 or more');
    const { total, groups } = await this.repo.duplicateHashes((page - 1) * limit, limit, verifiedOnly);
    if (page > Math.max(Math.ceil(total / limit), 1)) throw invalid('page', `out of range: ${total} group(s)`);
    const members = await this.repo.findPresentBySha256(
      groups.map((g) => g.sha256),
      verifiedOnly,
    );
    return {
      total,
      page,
      limit,
      groups: groups.map((g) => ({ ...g, adapters: members.filter((m) => m.sha256 === g.sha256) })),
    };
  }

  /** Other present adapters whose file has the same SHA-256 as this one's (copies of the same file). */
  async duplicatesOf(id: string): Promise<AdapterEntity[]> {
    const adapter = await this.get(id);
    if (!adapter.sha256) return [];
    return (await this.repo.findPresentBySha256([adapter.sha256], false)).filter((other) => other.id !== adapter.id);
  }

  /**
   * The preview of an adapter: its preview file, opened once inside its library root and checked on the handle
   * (symlinks included), else the image embedded in the LoRA's header, decoded once per file version; 404 otherwise.
   */
  async preview(id: string): Promise<AdapterPreviewFile> {
    const adapter = await this.get(id);
    const notFound = new NotFoundError('Preview of adapter', id, 'preview_not_found');
    if (!adapter.previewPath) {
      if (!adapter.previewEmbedded) throw notFound;
      const embedded = await this.embeddedPreview(adapter.rootId, adapter.relativePath, adapter.previewEmbedded);
      if (!embedded) throw notFound;
      return { bytes: embedded.preview.bytes, contentType: embedded.preview.contentType, version: embedded.version };
    }
    const file = await this.roots.openInside(adapter.rootId, adapter.previewPath);
    if (!file) throw notFound;
    const contentType = PREVIEW_TYPES[extname(file.realPath).toLowerCase()] ?? 'application/octet-stream';
    const { dev, ino, size, mtimeMs } = file.stats;
    return { handle: file.fh, contentType, size, version: `file:${dev}:${ino}:${size}:${mtimeMs}:${file.realPath}` };
  }

  /** The image under `key` in a LoRA's header, from the cache while the file keeps its size and mtime. */
  private async embeddedPreview(
    rootId: string,
    relativePath: string,
    key: string,
  ): Promise<{ preview: EmbeddedPreview; version: string } | undefined> {
    const lora = await this.roots.openInside(rootId, relativePath);
    if (!lora) return undefined;
    try {
      const { dev, ino, size, mtimeMs } = lora.stats;
      const version = `embedded:${dev}:${ino}:${size}:${mtimeMs}:${key}:${lora.realPath}`;
      const preview = await this.embeddedPreviews.get(version, async () => {
        // The key the import chose; a header far beyond an 8 MiB image is not read for a preview.
        const header = await readSafetensorsHeaderFrom(readHandleOf(lora.fh, lora.stats), lora.realPath, {
          decodeEmbeddedPreview: key,
          maxHeaderBytes: EMBEDDED_PREVIEW_MAX_HEADER_BYTES,
        }).catch(() => null);
        return header?.embeddedPreview;
      });
      return preview ? { preview, version } : undefined;
    } finally {
      await lora.fh.close().catch(() => undefined);
    }
  }

  private checkWeights(a: Pick<AdapterEntity, 'weightMin' | 'preferredWeight' | 'weightMax'>): void {
    const { weightMin: min, preferredWeight: preferred, weightMax: max } = a;
    if (min !== null && max !== null && min > max) throw invalid('weightMin', `must not exceed weightMax (${max})`);
    if (preferred !== null && min !== null && preferred < min)
      throw invalid('preferredWeight', `must be at least weightMin (${min})`);
    if (preferred !== null && max !== null && preferred > max)
      throw invalid('preferredWeight', `must not exceed weightMax (${max})`);
  }

  /** Validates and normalises a list request into a repository filter. */
  private toFilter(q: AdapterListQuery): AdapterFilter {
    const list = (
      field: string,
      values: string[] | undefined,
      normalise: (v: string) => string = (v) => v.trim(),
    ): string[] | undefined => {
      if (values === undefined) return undefined;
      const out = [...new Set(values.map(normalise).filter((v) => v.length > 0))];
      if (out.length === 0) throw invalid(field, 'must not be empty');
      if (out.length > MAX_FILTER_VALUES) throw invalid(field, `at most ${MAX_FILTER_VALUES} values`);
      return out;
    };
    let searchTerms: string[] | undefined;
    if (q.q !== undefined && q.q.trim() !== '') {
      searchTerms = searchTermsOf(q.q);
      if (searchTerms.length === 0) throw invalid('q', 'must contain a letter or a digit');
    }
    if (q.tagMode !== undefined && !Object.values(TagMode).includes(q.tagMode))
      throw invalid('tagMode', 'must be any or all');
    if (q.nsfwMax !== undefined && !(NSFW_MAX_LEVELS as readonly number[]).includes(q.nsfwMax)) {
      throw invalid('nsfwMax', `must be one of ${NSFW_MAX_LEVELS.join(', ')}`);
    }
    if (q.civitaiModelId !== undefined && !(Number.isInteger(q.civitaiModelId) && q.civitaiModelId > 0)) {
      throw invalid('civitaiModelId', 'must be a positive integer');
    }
    let folder: string | undefined;
    if (q.folder !== undefined) {
      folder = q.folder.replace(/\\/g, '/').replace(/^\/+|\/+$/g, '');
      if (folder.split('/').some((s) => s === '..' || s === '.') || folder.includes('\0')) {
        throw invalid('folder', 'must be a folder path relative to a library root');
      }
    }
    return {
      searchTerms,
      baseModels: list('baseModel', q.baseModel),
      tags: list('tags', q.tags, normaliseTag),
      tagMode: q.tagMode ?? TagMode.Any,
      modelTypes: list('modelType', q.modelType),
      nsfwMax: q.nsfwMax,
      active: q.active,
      favorite: q.favorite,
      hasPreview: q.hasPreview,
      hasWarnings: q.hasWarnings,
      hasUpdate: q.hasUpdate,
      missing: q.missing ?? false,
      rootId: q.root,
      folder: folder || undefined,
      civitaiModelId: q.civitaiModelId,
    };
  }
}
