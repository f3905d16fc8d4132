import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ActivityService, AnalyticsService, SystemStatusService } from '@app/insights';
import { ApiReadErrors } from '../common/api-docs.js';
import {
  ActivityPageDto,
  ActivityQueryDto,
  AdapterUsageStatsDto,
  DeliveryStatsDto,
  FailureStatsDto,
  GenerationStatsDto,
  GenerationStatsQueryDto,
  LibrarySummaryDto,
  RangeQueryDto,
  SystemStatusDto,
  TopQueryDto,
} from './insights.dto.js';
import { jsonified } from './jsonified.js';

const range = (query: RangeQueryDto) => ({
  from: query.from === undefined ? undefined : new Date(query.from),
  to: query.to === undefined ? undefined : new Date(query.to),
});

@ApiTags('analytics')
@Controller('analytics')
export class AnalyticsController {
  constructor(private readonly analytics: AnalyticsService) {}

  /** The library: adapters by base model, type and NSFW level, totals, recent imports. */
  @Get('summary')
  @ApiOkResponse({ type: LibrarySummaryDto })
  @ApiReadErrors()
  async summary(): Promise<LibrarySummaryDto> {
    return jsonified(await this.analytics.summary());
  }

  /** Generations per hour or day and backend: counts by outcome, mean and p95 duration. */
  @Get('generations')
  @ApiOkResponse({ type: GenerationStatsDto })
  @ApiReadErrors()
  async generations(@Query() query: GenerationStatsQueryDto): Promise<GenerationStatsDto> {
    return jsonified(
      await this.analytics.generations({ ...range(query), bucket: query.bucket, backendId: query.backendId }),
    );
  }

  /** The adapters, and pairs of adapters, most used in generated images. */
  @Get('adapters')
  @ApiOkResponse({ type: AdapterUsageStatsDto })
  @ApiReadErrors()
  async adapters(@Query() query: TopQueryDto): Promise<AdapterUsageStatsDto> {
    return jsonified(await this.analytics.adapters({ ...range(query), limit: query.limit }));
  }

  /** Why generations and deliveries failed, grouped by cause. */
  @Get('failures')
  @ApiOkResponse({ type: FailureStatsDto })
  @ApiReadErrors()
  async failures(@Query() query: TopQueryDto): Promise<FailureStatsDto> {
    return jsonified(await this.analytics.failures({ ...range(query), limit: query.limit }));
  }

  /** Delivery outcomes by mode. */
  @Get('deliveries')
  @ApiOkResponse({ type: DeliveryStatsDto })
  @ApiReadErrors()
  async deliveries(@Query() query: RangeQueryDto): Promise<DeliveryStatsDto> {
    return jsonified(await this.analytics.deliveries(range(query)));
  }
}

@ApiTags('activity')
@Controller('activity')
export class ActivityController {
  constructor(private readonly activity: ActivityService) {}

  /** Imports, generations, deliveries and adapter edits, newest first; keyset paging with `cursor`. */
  @Get()
  @ApiOkResponse({ type: ActivityPageDto })
  @ApiReadErrors()
  async list(@Query() query: ActivityQueryDto): Promise<ActivityPageDto> {
    const limit = query.limit ?? 30;
    return { ...jsonified(await this.activity.list({ ...query, limit })), limit };
  }
}

@ApiTags('system')
@Controller('system')
export class SystemController {
  constructor(private readonly status: SystemStatusService) {}

  /**
   * SD.Next backends, queue depths, live API and worker processes, database and Redis latency, free disk space,
   * version and uptime. Any role may read it; it holds no credentials.
   */
  @Get('status')
  @ApiOkResponse({ type: SystemStatusDto })
  @ApiReadErrors()
  async get(): Promise<SystemStatusDto> {
    return jsonified(await this.status.status());
  }
}
