import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CivitaiLookupService, CivitaiUpdateService } from '@app/adapters';
import { APP_CONFIG, type AppConfig, JOB_START_ROLE, JobName, JobQueue } from '@app/core';
import { RequireRole } from '@app/core/http';
import { JobCreatedDto } from '../jobs/jobs.dto.js';
import { ApiReadErrors, ApiWriteErrors } from '../common/api-docs.js';
import { CivitaiAdapterParamDto, CivitaiLookupDto, CivitaiStatusDto, StartCivitaiLookupDto } from './civitai.dto.js';

@ApiTags('civitai')
@Controller('civitai')
export class CivitaiController {
  constructor(
    private readonly lookups: CivitaiLookupService,
    private readonly jobs: JobQueue,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly updates: CivitaiUpdateService,
  ) {}

  /** Which Civitai this service talks to and at what rate; whether a key is set (never the key). */
  @Get()
  @ApiOkResponse({ type: CivitaiStatusDto })
  @ApiReadErrors()
  async status(): Promise<CivitaiStatusDto> {
    const c = this.config.civitai;
    return {
      url: c.url,
      apiKeyConfigured: c.apiKey !== null,
      ratePerSecond: c.ratePerSecond,
      burst: c.burst,
      updatesAvailable: await this.updates.countWithUpdates(),
    };
  }

  /**
   * Looks the adapter's file up on Civitai by its SHA-256 and keeps the answer: its facts are merged like a
   * `.civitai.info` beside the file (the user's edits win), or the adapter is marked "not on Civitai". 409 while the
   * file's hash has not been computed; 502/504 when Civitai fails or does not answer.
   */
  @Post('adapters/:id/lookup')
  @HttpCode(200)
  @ApiOkResponse({ type: CivitaiLookupDto })
  @ApiWriteErrors(404, 409, 502, 504)
  async lookup(@Param() params: CivitaiAdapterParamDto): Promise<CivitaiLookupDto> {
    const result = await this.lookups.lookup(params.id);
    return { ...result, fetchedAt: result.fetchedAt.toISOString() };
  }

  /**
   * Looks many adapters up as a job, one at a time within the rate limit: the given ids, or every unmatched one. Follow
   * it with `GET /jobs/civitai-lookup/{id}` (progress; the result counts found, not found and failed adapters).
   */
  @Post('lookups')
  @RequireRole(JOB_START_ROLE[JobName.CivitaiLookup])
  @ApiCreatedResponse({ type: JobCreatedDto })
  @ApiWriteErrors()
  async startLookups(@Body() body: StartCivitaiLookupDto): Promise<JobCreatedDto> {
    const { id } = await this.jobs.enqueue(
      JobName.CivitaiLookup,
      body.adapterIds ? { adapterIds: body.adapterIds } : {},
    );
    return { id, name: JobName.CivitaiLookup };
  }
}
