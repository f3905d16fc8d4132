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
