import { Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CivitaiLookupService } from '@app/adapters';
import { APP_CONFIG, type AppConfig } from '@app/core';
import { ApiConfigReadErrors, ApiWriteErrors } from '../common/api-docs.js';
import { CivitaiAdapterParamDto, CivitaiLookupDto, CivitaiStatusDto } from './civitai.dto.js';

@ApiTags('civitai')
@Controller('civitai')
export class CivitaiController {
  constructor(
    private readonly lookups: CivitaiLookupService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Which Civitai this service talks to and at what rate; whether a key is set (never the key). */
  @Get()
  @ApiOkResponse({ type: CivitaiStatusDto })
  @ApiConfigReadErrors()
  status(): CivitaiStatusDto {
    const c = this.config.civitai;
    return { url: c.url, apiKeyConfigured: c.apiKey !== null, ratePerSecond: c.ratePerSecond, burst: c.burst };
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
}
