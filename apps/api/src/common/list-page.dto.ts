import { ApiDateTime, ApiInteger } from './api-docs.js';
import { PAGE_BOUNDS } from './page-query.dto.js';

/** The paging facts of an offset-paged list answer; each list DTO adds its `items`. */
export abstract class OffsetPageDto {
  @ApiInteger({ minimum: 0 })
  total: number;
  @ApiInteger({ minimum: 1, maximum: PAGE_BOUNDS.maxLimit })
  limit: number;
  @ApiInteger({ minimum: 0 })
  offset: number;
}

/** When a job (a generation, a delivery, an import run) was created, started and finished. */
export abstract class JobTimesDto {
  @ApiDateTime()
  createdAt: string;
  @ApiDateTime({ nullable: true })
  startedAt: string | null;
  @ApiDateTime({ nullable: true })
  finishedAt: string | null;
}

/** A job row's timestamps as the API gives them (drivers may hand back strings: each goes through `Date`). */
export function jobTimesOf(row: {
  createdAt: Date | string;
  startedAt: Date | string | null;
  finishedAt: Date | string | null;
}): JobTimesDto {
  const iso = (d: Date | string | null): string | null => (d ? new Date(d).toISOString() : null);
  return { createdAt: iso(row.createdAt)!, startedAt: iso(row.startedAt), finishedAt: iso(row.finishedAt) };
}
