import { MAX_PAGE_LIMIT } from '@app/adapters';
import { OptionalIntegerQuery } from './query-params.js';

/** Bounds of every paged list: past them a 400 names the parameter (never a clamp, never a database error). */
export const PAGE_BOUNDS = {
  maxLimit: MAX_PAGE_LIMIT,
  /** 50,000 pages of the largest limit reach the largest offset. */
  maxPage: 50_000,
  maxOffset: 10_000_000,
} as const;

/** `limit` (1–200) and `offset` (0–10,000,000) query parameters of the job lists. */
export class OffsetPageQueryDto {
  @OptionalIntegerQuery(1, PAGE_BOUNDS.maxLimit)
  limit?: number;

  @OptionalIntegerQuery(0, PAGE_BOUNDS.maxOffset)
  offset?: number;
}
