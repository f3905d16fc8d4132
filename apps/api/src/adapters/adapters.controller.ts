import {
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
  StreamableFile,
  Headers,
} from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AdapterQueryService, CivitaiUpdateService, ImportService } from '@app/adapters';
import { ThumbnailService } from '@app/core';
import type { Response } from 'express';
import {
  ActivateAdapterDto,
  AdapterDto,
  AdapterPageDto,
  AdapterSummaryDto,
  BulkAdapterActionDto,
  BulkResultDto,
  DuplicatesPageDto,
  PatchAdapterDto,
  RegisterAdapterDto,
  ValueCountDto,
} from './adapter.dto.js';
import { adapterPageJson, mapAdapter, mapAdapterPage, mapAdapterSummary } from './adapter.mapper.js';
import {
  AdapterIdParamDto,
  DuplicatesQueryDto,
  ListAdaptersQueryDto,
  PreviewQueryDto,
  TagCountsQueryDto,
} from './adapter-query.dto.js';
import { ApiReadErrors, ApiWriteErrors } from '../common/api-docs.js';
import { ApiThumbnailResponses, sendThumbnail } from '../common/thumbnail-response.js';

@ApiTags('adapters')
@Controller('adapters')
export class AdaptersController {
  constructor(
    private readonly adapters: AdapterQueryService,
    private readonly importer: ImportService,
    private readonly updates: CivitaiUpdateService,
    private readonly thumbnails: ThumbnailService,
  ) {}

  /** Registers one file by path (inside a library root): reads its header, sidecars and hashes now. */
  @Post()
  @ApiCreatedResponse({ type: AdapterDto })
  @ApiWriteErrors(404)
  async register(@Body() body: RegisterAdapterDto): Promise<AdapterDto> {
    return mapAdapter((await this.importer.registerFile(body.path)).adapter);
  }

  /** Search, filter, sort and page the library; optional facet counts for the same filters. */
  @Get()
  @Header('Content-Type', 'application/json; charset=utf-8')
  @ApiOkResponse({ type: AdapterPageDto })
  @ApiReadErrors()
  async list(@Query() query: ListAdaptersQueryDto): Promise<string> {
    const { withUpdates, ...page } = await this.adapters.list(query);
    // Sent as JSON text: the summaries of unchanged rows are serialised once, not on every request.
    return adapterPageJson(mapAdapterPage(page, withUpdates));
  }

  /** Tags of present adapters with their counts, most used first. */
  @Get('tags')
  @ApiOkResponse({ type: ValueCountDto, isArray: true })
  @ApiReadErrors()
  tags(@Query() query: TagCountsQueryDto): Promise<ValueCountDto[]> {
    return this.adapters.tags(query.limit, query.prefix);
  }

  /** Base models of present adapters with their counts. */
  @Get('base-models')
  @ApiOkResponse({ type: ValueCountDto, isArray: true })
  @ApiReadErrors()
  baseModels(): Promise<ValueCountDto[]> {
    return this.adapters.baseModels();
  }

  /** Groups of present adapters sharing one SHA-256. */
  @Get('duplicates')
  @ApiOkResponse({ type: DuplicatesPageDto })
  @ApiReadErrors()
  async duplicates(@Query() query: DuplicatesQueryDto): Promise<DuplicatesPageDto> {
    const result = await this.adapters.duplicates(query.page, query.limit, query.verified ?? false);
    return {
      ...result,
      groups: result.groups.map((g) => ({ ...g, adapters: g.adapters.map((a) => mapAdapterSummary(a)) })),
    };
  }

  /** One action on up to 1,000 adapters, in one transaction. */
  @Post('bulk')
  @HttpCode(200)
  @ApiOkResponse({ type: BulkResultDto })
  @ApiWriteErrors()
  bulk(@Body() body: BulkAdapterActionDto): Promise<BulkResultDto> {
    return this.adapters.bulk(body.action, body.ids);
  }

  /** One adapter with everything its file and sidecars said. */
  @Get(':id')
  @ApiOkResponse({ type: AdapterDto })
  @ApiReadErrors(404)
  async get(@Param() params: AdapterIdParamDto): Promise<AdapterDto> {
    const adapter = mapAdapter(await this.adapters.get(params.id));
    const update = await this.updates.of(params.id);
    return {
      ...adapter,
      hasUpdate: (update?.newer.length ?? 0) > 0,
      civitaiNewerVersions: update?.newer ?? [],
      civitaiUpdateCheckedAt: update ? new Date(update.checkedAt).toISOString() : null,
    };
  }

  /** Other present adapters with the same SHA-256: copies of this file elsewhere in the library. */
  @Get(':id/duplicates')
  @ApiOkResponse({ type: AdapterSummaryDto, isArray: true })
  @ApiReadErrors(404)
  async duplicatesOf(@Param() params: AdapterIdParamDto): Promise<AdapterSummaryDto[]> {
    return (await this.adapters.duplicatesOf(params.id)).map((a) => mapAdapterSummary(a));
  }

  /**
   * The preview image (or video) from the adapter's library root, or the image embedded in the LoRA file; with
   * `size`, its WebP thumbnail (made on first request, cached in storage, ETag changes when the preview does).
   */
  @Get(':id/preview')
  @Header('X-Content-Type-Options', 'nosniff')
  // Library files are untrusted: nothing served here may run script or load anything, even if opened as a page.
  @Header('Content-Security-Policy', "default-src 'none'; sandbox")
  @Header('Cache-Control', 'private, max-age=300')
  @ApiThumbnailResponses()
  @ApiReadErrors(404, 422)
  async preview(
    @Param() params: AdapterIdParamDto,
    @Query() query: PreviewQueryDto,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile | undefined> {
    const file = await this.adapters.preview(params.id);
    if (query.size === undefined) {
      if ('bytes' in file) return new StreamableFile(file.bytes, { type: file.contentType, length: file.bytes.length });
      return new StreamableFile(file.handle.createReadStream(), { type: file.contentType, length: file.size });
    }
    let opened = false;
    try {
      const answer = await this.thumbnails.thumbnail(
        {
          identity: `adapter-preview:${file.version}`,
          read: () => {
            if ('bytes' in file) return Promise.resolve(file.bytes);
            opened = true;
            return Promise.resolve(file.handle.createReadStream());
          },
        },
        query.size,
        ifNoneMatch,
      );
      // The URL names the adapter, not the preview's bytes: revalidate (a 304 costs one stat) after 5 minutes.
      return sendThumbnail(answer, res, 'private, max-age=300');
    } finally {
      if ('handle' in file && !opened) await file.handle.close().catch(() => undefined);
    }
  }

  /** Changes user fields; each one given is kept across resyncs. */
  @Patch(':id')
  @ApiOkResponse({ type: AdapterDto })
  @ApiWriteErrors(404)
  async patch(@Param() params: AdapterIdParamDto, @Body() body: PatchAdapterDto): Promise<AdapterDto> {
    return mapAdapter(await this.adapters.patch(params.id, body));
  }

  /** Deletes the record (never the file); a later import may add it again. */
  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiReadErrors(404)
  async remove(@Param() params: AdapterIdParamDto): Promise<void> {
    await this.adapters.remove(params.id);
  }

  /** Adds the adapter to the active set (the default selection of `POST /compose`), optionally at a position. */
  @Post(':id/activate')
  @HttpCode(200)
  @ApiOkResponse({ type: AdapterDto })
  @ApiWriteErrors(404)
  async activate(@Param() params: AdapterIdParamDto, @Body() body: ActivateAdapterDto): Promise<AdapterDto> {
    return mapAdapter(await this.adapters.setActive(params.id, true, body.ordinal));
  }

  /** Removes the adapter from the active set. */
  @Post(':id/deactivate')
  @HttpCode(200)
  @ApiOkResponse({ type: AdapterDto })
  @ApiWriteErrors(404)
  async deactivate(@Param() params: AdapterIdParamDto): Promise<AdapterDto> {
    return mapAdapter(await this.adapters.setActive(params.id, false));
  }
}
