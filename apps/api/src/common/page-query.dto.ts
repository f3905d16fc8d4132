import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { MAX_PAGE_LIMIT } from '@app/adapters';
import { toInteger } from './query-params.js';

/** Bounds of every paged list: past them a 400 names the parameter (never a clamp, never a database error). */
export const PAGE_BOUNDS = {
  maxLimit: MAX_PAGE_LIMIT,
  /** 50,000 pages of the largest limit reach the largest offset. */
  maxPage: 50_000,
  maxOffset: 10_000_000,
} as const;

/** `limit` (1–200) and `offset` (0–10,000,000) query parameters of the job lists. */
export class OffsetPageQueryDto {
  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(PAGE_BOUNDS.maxLimit)
  limit?: number;

  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(PAGE_BOUNDS.maxOffset)
  offset?: number;
}
