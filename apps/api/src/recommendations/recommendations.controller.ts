import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { JOB_START_ROLE, JobName, JobQueue, Role } from '@app/core';
import { RequireRole } from '@app/core/http';
import { RecommendationsService } from '@app/insights';
import { ApiReadErrors, ApiWriteErrors } from '../common/api-docs.js';
import { JobCreatedDto } from '../jobs/jobs.dto.js';
import {
  ByTriggerQueryDto,
  FeedbackDto,
  FeedbackRecordedDto,
  ForPromptDto,
  IndexStatsDto,
  RecommendationAdapterParamsDto,
  RecommendationListDto,
  SimilarQueryDto,
} from './recommendations.dto.js';
import { toIndexStatsDto } from './recommendations.mapper.js';

const DEFAULT_LIMIT = 10;

@ApiTags('recommendations')
@Controller('recommendations')
export class RecommendationsController {
  constructor(
    private readonly recommendations: RecommendationsService,
    private readonly jobs: JobQueue,
  ) {}

  /**
   * Adapters like this one, best first, each with the parts of its score and the reasons: shared words (name, trigger
   * and trained words, tags, creator, description), images generated together, and users' feedback. Adapters of
   * another base-model family are left out unless `includeIncompatible=true`. 404 for an unknown or tombstoned adapter.
   */
  @Get('adapters/:id/similar')
  @ApiOkResponse({ type: RecommendationListDto })
  @ApiReadErrors(404)
  async similar(
    @Param() params: RecommendationAdapterParamsDto,
    @Query() query: SimilarQueryDto,
  ): Promise<RecommendationListDto> {
    const items = await this.recommendations.similar(params.id, {
      limit: query.limit ?? DEFAULT_LIMIT,
      includeIncompatible: query.includeIncompatible ?? false,
    });
    return { items };
  }

  /** Adapters whose trigger words, tags, names and descriptions the prompt uses, with the matching terms. A read. */
  @Post('for-prompt')
  @RequireRole(Role.Viewer)
  @HttpCode(200)
  @ApiOkResponse({ type: RecommendationListDto })
  @ApiWriteErrors()
  async forPrompt(@Body() body: ForPromptDto): Promise<RecommendationListDto> {
    const items = await this.recommendations.forPrompt({
      prompt: body.prompt,
      baseModel: body.baseModel,
      limit: body.limit ?? DEFAULT_LIMIT,
      includeIncompatible: body.includeIncompatible ?? false,
    });
    return { items };
  }

  /** Adapters with this trigger or trained word: the exact phrase first, then phrases that contain it. */
  @Get('by-trigger')
  @ApiOkResponse({ type: RecommendationListDto })
  @ApiReadErrors()
  async byTrigger(@Query() query: ByTriggerQueryDto): Promise<RecommendationListDto> {
    return { items: await this.recommendations.byTrigger(query.word, query.limit ?? DEFAULT_LIMIT, query.baseModel) };
  }

  /** Records "useful" or "not useful" on a recommended adapter; later rankings count it. */
  @Post('feedback')
  @ApiCreatedResponse({ type: FeedbackRecordedDto })
  @ApiWriteErrors(404)
  feedback(@Body() body: FeedbackDto): Promise<FeedbackRecordedDto> {
    return this.recommendations.feedback(body);
  }

  /** This process's index (documents, terms, when built and how long it took) and the last rebuild job's record. */
  @Get('index')
  @ApiOkResponse({ type: IndexStatsDto })
  @ApiReadErrors()
  async index(): Promise<IndexStatsDto> {
    return toIndexStatsDto(await this.recommendations.stats());
  }

  /**
   * Rebuilds the index as a job; when it completes every process rebuilds its own copy before its next answer.
   * Follow it with `GET /jobs/recommendations.rebuild/{id}` or the `recommendations.*` events.
   */
  @Post('index/rebuild')
  @RequireRole(JOB_START_ROLE[JobName.RecommendationsRebuild])
  @ApiCreatedResponse({ type: JobCreatedDto })
  @ApiWriteErrors()
  async rebuild(): Promise<JobCreatedDto> {
    const { id } = await this.jobs.enqueue(JobName.RecommendationsRebuild, {});
    return { id, name: JobName.RecommendationsRebuild };
  }
}
