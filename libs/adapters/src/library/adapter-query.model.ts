// The query vocabulary of the adapter library: shared by the service (rules), the repository (SQL) and the
// API's DTOs. String enums, because every value travels over the wire.

import type { AdapterUserField } from './adapter-fields.js';
import type { AdapterEntity } from './adapter.entity.js';

export enum AdapterSort {
  Relevance = 'relevance',
  Name = 'name',
  Created = 'created',
  Updated = 'updated',
  Downloads = 'downloads',
  Rating = 'rating',
  Likes = 'likes',
  Size = 'size',
}

export enum SortOrder {
  Asc = 'asc',
  Desc = 'desc',
}

export enum TagMode {
  Any = 'any',
  All = 'all',
}

export enum AdapterFacet {
  BaseModel = 'baseModel',
  Tags = 'tags',
}

export enum AdapterBulkAction {
  Activate = 'activate',
  Deactivate = 'deactivate',
  Delete = 'delete',
  Favorite = 'favorite',
  Unfavorite = 'unfavorite',
}

/** The levels a "hide above" NSFW filter accepts: 0 (unrated only) or one Civitai level bit. */
export const NSFW_MAX_LEVELS = [0, 1, 2, 4, 8, 16, 32] as const;

export const MAX_PAGE_LIMIT = 200;
export const DEFAULT_PAGE_LIMIT = 50;
export const TAG_FACET_LIMIT = 50;
export const MAX_BULK_IDS = 1000;
export const MAX_FILTER_VALUES = 50;

/** A list request as clients give it (the API's query DTO has this shape). */
export interface AdapterListQuery {
  /** Full-text search over name, trained words, trigger words, tags, creator; every term is a prefix. */
  q?: string;
  baseModel?: string[];
  tags?: string[];
  tagMode?: TagMode;
  modelType?: string[];
  /** Highest NSFW level bit to include (unrated, 0, is always included). */
  nsfwMax?: number;
  active?: boolean;
  favorite?: boolean;
  hasPreview?: boolean;
  /** true: adapters whose import left warnings (a broken sidecar, a hash that disagrees, …); false: the others. */
  hasWarnings?: boolean;
  /** true: linked adapters whose last Civitai update check found a newer version; false: the others. */
  hasUpdate?: boolean;
  /** true: only tombstoned adapters; false (default): only present ones. */
  missing?: boolean;
  /** Library root id; with `folder`, the prefix is taken within that root. */
  root?: string;
  /** Folder prefix relative to the root (`characters/anime` matches that folder and below). */
  folder?: string;
  civitaiModelId?: number;
  sort?: AdapterSort;
  order?: SortOrder;
  page?: number;
  limit?: number;
  facets?: AdapterFacet[];
}

/** The filter the repository turns into SQL: validated and normalised by the service. */
export interface AdapterFilter {
  searchTerms?: string[];
  baseModels?: string[];
  tags?: string[];
  tagMode: TagMode;
  modelTypes?: string[];
  nsfwMax?: number;
  active?: boolean;
  favorite?: boolean;
  hasPreview?: boolean;
  hasWarnings?: boolean;
  hasUpdate?: boolean;
  missing: boolean;
  rootId?: string;
  folder?: string;
  civitaiModelId?: number;
}

export interface ValueCount {
  value: string;
  count: number;
}

export interface AdapterFacets {
  baseModel?: ValueCount[];
  tags?: ValueCount[];
}

export enum AdapterListWarningCode {
  /** A `baseModel` value is neither a known base model (name or alias) nor one any adapter has. */
  UnknownBaseModel = 'unknown_base_model',
}

/** Something about a list request the client should know, though the request was answered. */
export interface AdapterListWarning {
  code: AdapterListWarningCode;
  /** The query parameter at fault. */
  field: string;
  /** Its value at fault. */
  value: string;
  message: string;
}

export interface AdapterPage<T> {
  items: T[];
  total: number;
  page: number;
  limit: number;
  pages: number;
  sort: AdapterSort;
  order: SortOrder;
  facets?: AdapterFacets;
  warnings: AdapterListWarning[];
}

/** User-editable fields (`AdapterUserField`, with the entity's types); `null` clears a nullable one. */
export type AdapterPatch = Partial<Pick<AdapterEntity, `${AdapterUserField}`>>;

export interface BulkResult {
  action: AdapterBulkAction;
  affected: number;
  notFound: string[];
}

export interface DuplicateGroup<T> {
  sha256: string;
  count: number;
  /** Every member's SHA-256 was computed from its bytes: a proven duplicate, not a sidecar's claim. */
  verified: boolean;
  adapters: T[];
}
