/** Sort keys of the results list; each pages by keyset over (key, id). */
export enum ResultSort {
  CreatedAt = 'createdAt',
  Rating = 'rating',
}

export enum ResultOrder {
  Asc = 'asc',
  Desc = 'desc',
}

export const RESULT_LIMITS = {
  maxLimit: 200,
  maxTags: 50,
  maxTagLength: 64,
  maxNotes: 10_000,
  maxBulk: 1_000,
  maxQuery: 200,
} as const;

export interface ResultListQuery {
  /** Created at or after. */
  from?: Date;
  /** Created before. */
  to?: Date;
  adapterId?: string;
  backendId?: string;
  minRating?: number;
  favorite?: boolean;
  /** Matched (substring, case-insensitive for ASCII) in the prompt and the negative prompt. */
  q?: string;
  /** Base model of a library adapter the result used. */
  baseModel?: string;
  sort?: ResultSort;
  order?: ResultOrder;
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

export interface ResultUserFields {
  rating?: number;
  favorite?: boolean;
  tags?: string[];
  notes?: string | null;
}
