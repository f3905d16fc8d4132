import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import {
  type CivitaiRunEntity,
  CivitaiLinkService,
  CivitaiRunService,
  CivitaiRunTrigger,
  CivitaiUpdateService,
} from '@app/adapters';
import { JOB_START_ROLE, JobName } from '@app/core';
import { RequireRole } from '@app/core/http';
import { jobTimesOf } from '../common/list-page.dto.js';
import { ApiReadErrors, ApiWriteErrors } from '../common/api-docs.js';
import { CivitaiAdapterParamDto } from './civitai.dto.js';
import {
  CivitaiLinkBodyDto,
  CivitaiLinkDto,
  CivitaiRunCancelDto,
  CivitaiRunDto,
  CivitaiRunIdParamDto,
  CivitaiRunStartedDto,
  CivitaiRunsQueryDto,
  CivitaiUpdateCheckDto,
  StartCivitaiRunDto,
} from './civitai-runs.dto.js';

export const toCivitaiRunDto = (run: CivitaiRunEntity): CivitaiRunDto => ({
  id: run.id,
  kind: run.kind,
  status: run.status,
  trigger: run.trigger,
  counts: run.counts,
  failures: run.failures,
  error: run.error,
  ...jobTimesOf(run),
});

/** Civitai runs (bulk lookups, update checks), manual links and one adapter's update check. */
@ApiTags('civitai')
@Controller('civitai')
export class CivitaiRunsController {
  constructor(
    private readonly runs: CivitaiRunService,
    private readonly links: CivitaiLinkService,
    private readonly updates: CivitaiUpdateService,
  ) {}

  /**
   * Starts a lookup or update-check run over the given adapters, a filter's matches, or every candidate, or returns
   * the run already queued or running (one at a time). Follow it with `GET /civitai/runs/{id}` or the `civitai`
   * Socket.IO topic (`civitai.progress`, `civitai.completed`).
   */
  @Post('runs')
  @RequireRole(JOB_START_ROLE[JobName.CivitaiRun])
  @ApiCreatedResponse({ type: CivitaiRunStartedDto })
  @ApiWriteErrors()
  async start(@Body() body: StartCivitaiRunDto): Promise<CivitaiRunStartedDto> {
    const scope = body.adapterIds ? { adapterIds: body.adapterIds } : body.filter ? { filter: { ...body.filter } } : {};
    const { run, created } = await this.runs.start(body.kind, scope, CivitaiRunTrigger.Api);
    return { run: toCivitaiRunDto(run), created };
  }

  /** Recent Civitai runs, newest first. */
  @Get('runs')
  @ApiOkResponse({ type: [CivitaiRunDto] })
  @ApiReadErrors()
  async list(@Query() query: CivitaiRunsQueryDto): Promise<CivitaiRunDto[]> {
    return (await this.runs.list(20, query.kind)).map(toCivitaiRunDto);
  }

  /** One run with its counts and failures. */
  @Get('runs/:id')
  @ApiOkResponse({ type: CivitaiRunDto })
  @ApiReadErrors(404)
  async get(@Param() params: CivitaiRunIdParamDto): Promise<CivitaiRunDto> {
    return toCivitaiRunDto(await this.runs.get(params.id));
  }

  /** Cancels a run: a queued one ends at once, a running one after the adapter it is doing. */
  @Post('runs/:id/cancel')
  @HttpCode(200)
  @RequireRole(JOB_START_ROLE[JobName.CivitaiRun])
  @ApiOkResponse({ type: CivitaiRunCancelDto })
  @ApiWriteErrors(404)
  async cancel(@Param() params: CivitaiRunIdParamDto): Promise<CivitaiRunCancelDto> {
    const { run, outcome } = await this.runs.cancel(params.id);
    return { run: toCivitaiRunDto(run), outcome };
  }

  /**
   * Links the adapter to the Civitai version a user names (version id, model or version URL, AIR), for files whose
   * hash Civitai does not know. A model alone takes the version with this file's hash, else its newest. Stored like a
   * lookup's answer (the user's edits win). 404 `civitai_not_found` when Civitai does not know the reference.
   */
  @Post('adapters/:id/link')
  @HttpCode(200)
  @RequireRole(JOB_START_ROLE[JobName.CivitaiRun])
  @ApiOkResponse({ type: CivitaiLinkDto })
  @ApiWriteErrors(404, 409, 502, 504)
  // The body first: Nest validates the arguments in turn from the last, so a bad id is the error reported.
  link(@Body() body: CivitaiLinkBodyDto, @Param() params: CivitaiAdapterParamDto): Promise<CivitaiLinkDto> {
    return this.links.link(params.id, body.reference);
  }

  /** Forgets the adapter's Civitai answer (a lookup's or a link's); a `.civitai.info` beside the file still counts. */
  @Delete('adapters/:id/link')
  @HttpCode(204)
  @RequireRole(JOB_START_ROLE[JobName.CivitaiRun])
  @ApiNoContentResponse()
  @ApiWriteErrors(404, 409)
  async unlink(@Param() params: CivitaiAdapterParamDto): Promise<void> {
    await this.links.unlink(params.id);
  }

  /** Fetches the linked adapter's model now and records its newer versions. 409 when the adapter is not linked. */
  @Post('adapters/:id/check-updates')
  @HttpCode(200)
  @RequireRole(JOB_START_ROLE[JobName.CivitaiRun])
  @ApiOkResponse({ type: CivitaiUpdateCheckDto })
  @ApiWriteErrors(404, 409, 502, 504)
  async checkUpdates(@Param() params: CivitaiAdapterParamDto): Promise<CivitaiUpdateCheckDto> {
    const result = await this.updates.check(params.id);
    return { ...result, checkedAt: result.checkedAt.toISOString() };
  }
}
