import type { AdaptersListData } from '../api/generated/types.gen';

export type ListQuery = NonNullable<AdaptersListData['query']>;
export type SortKey = NonNullable<ListQuery['sort']>;
export type NsfwMax = NonNullable<ListQuery['nsfwMax']>;

export const SORT_KEYS: readonly SortKey[] = [
  'relevance',
  'name',
  'created',
  'updated',
  'downloads',
  'rating',
  'likes',
  'size',
];
export const NSFW_MAX_VALUES: readonly NsfwMax[] = [0, 1, 2, 4, 8, 16, 32];
export const MODEL_TYPES = ['LORA', 'LoCon', 'DoRA', 'LyCORIS', 'LoHa', 'LoKr', 'TextualInversion'] as const;

/** What the library shows, as held in the URL: every field optional, absent = the API's default. */
export interface LibraryFilters {
  q?: string;
  baseModel: string[];
  tags: string[];
  tagMode?: 'any' | 'all';
  modelType: string[];
  nsfwMax?: NsfwMax;
  active?: boolean;
  favorite?: boolean;
  hasPreview?: boolean;
  hasWarnings?: boolean;
  hasUpdate?: boolean;
  missing?: boolean;
  folder?: string;
  root?: string;
  sort?: SortKey;
  order?: 'asc' | 'desc';
  view: 'grid' | 'list';
}

const LISTS = ['baseModel', 'tags', 'modelType'] as const;
const FLAGS = ['active', 'favorite', 'hasPreview', 'hasWarnings', 'hasUpdate', 'missing'] as const;
const TEXTS = ['q', 'folder', 'root'] as const;

const flag = (value: string | null): boolean | undefined =>
  value === 'true' ? true : value === 'false' ? false : undefined;

const oneOf = <T extends string | number>(values: readonly T[], value: T | undefined): T | undefined =>
  value !== undefined && values.includes(value) ? value : undefined;

/** Reads the filters from a URL's search params; anything unknown or malformed is dropped, never an error. */
export function parseFilters(params: URLSearchParams): LibraryFilters {
  const filters: LibraryFilters = { baseModel: [], tags: [], modelType: [], view: 'grid' };
  for (const key of LISTS) filters[key] = params.getAll(key).filter((v) => v.length > 0);
  for (const key of FLAGS) filters[key] = flag(params.get(key));
  for (const key of TEXTS) filters[key] = params.get(key)?.trim() || undefined;
  filters.tagMode = oneOf(['any', 'all'], params.get('tagMode') as 'any' | 'all' | undefined);
  const nsfw = params.get('nsfwMax');
  filters.nsfwMax = oneOf(NSFW_MAX_VALUES, nsfw === null || nsfw === '' ? undefined : (Number(nsfw) as NsfwMax));
  filters.sort = oneOf(SORT_KEYS, (params.get('sort') ?? undefined) as SortKey | undefined);
  filters.order = oneOf(['asc', 'desc'], (params.get('order') ?? undefined) as 'asc' | 'desc' | undefined);
  filters.view = params.get('view') === 'list' ? 'list' : 'grid';
  return filters;
}

/** The URL form of the filters: only what differs from the defaults, lists as repeated params, in a stable order. */
export function toSearchParams(filters: LibraryFilters): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of TEXTS) if (filters[key]) params.set(key, filters[key]);
  for (const key of LISTS) for (const value of filters[key]) params.append(key, value);
  if (filters.tagMode && filters.tags.length > 0) params.set('tagMode', filters.tagMode);
  if (filters.nsfwMax !== undefined) params.set('nsfwMax', String(filters.nsfwMax));
  for (const key of FLAGS) if (filters[key] !== undefined) params.set(key, String(filters[key]));
  if (filters.sort) params.set('sort', filters.sort);
  if (filters.order) params.set('order', filters.order);
  if (filters.view === 'list') params.set('view', 'list');
  return params;
}

/** The API query for these filters (without paging). */
export function toListQuery(filters: LibraryFilters): ListQuery {
  const query: ListQuery = {};
  if (filters.q) query.q = filters.q;
  if (filters.folder) query.folder = filters.folder;
  if (filters.root) query.root = filters.root;
  for (const key of LISTS) if (filters[key].length > 0) query[key] = filters[key];
  if (filters.tagMode && filters.tags.length > 0) query.tagMode = filters.tagMode;
  if (filters.nsfwMax !== undefined) query.nsfwMax = filters.nsfwMax;
  for (const key of FLAGS) if (filters[key] !== undefined) query[key] = filters[key];
  if (filters.sort) query.sort = filters.sort;
  if (filters.order) query.order = filters.order;
  return query;
}

/** Adds or removes one value of a list filter. */
export function toggleValue(list: string[], value: string): string[] {
  return list.includes(value) ? list.filter((v) => v !== value) : [...list, value];
}

/** Filters other than the view and sort are set: the empty state should offer to clear them. */
export function hasFilters(filters: LibraryFilters): boolean {
  const { view: _view, sort: _sort, order: _order, ...rest } = filters;
  return Object.values(rest).some((v) => (Array.isArray(v) ? v.length > 0 : v !== undefined));
}
