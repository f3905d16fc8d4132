import { Body, Controller, Get, HttpCode, Param, Post, Res, StreamableFile } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { basename } from 'node:path';
import { CivitaiDownloadService, ExampleImagesService, LibraryRoots } from '@app/adapters';
import { JOB_START_ROLE, JobName } from '@app/core';
import { RequireRole } from '@app/core/http';
import { ApiReadErrors, ApiWriteErrors, ApiImageResponse } from '../common/api-docs.js';
import { CivitaiAdapterParamDto } from './civitai.dto.js';
import {
  DownloadCancelDto,
  DownloadDto,
  DownloadIdParamDto,
  DownloadRootDto,
  ExampleImageParamDto,
  ExampleImagesDto,
  ExamplesStartedDto,
  StartDownloadDto,
} from './downloads.dto.js';
import { toCivitaiDownloadDto } from './downloads.mapper.js';

@ApiTags('civitai')
@Controller('civitai')
export class DownloadsController {
  constructor(
    private readonly downloads: CivitaiDownloadService,
    private readonly examples: ExampleImagesService,
    private readonly roots: LibraryRoots,
  ) {}

  /** The library roots a download may go to (the first is the default). */
  @Get('download-roots')
  @ApiOkResponse({ type: [DownloadRootDto] })
  @ApiReadErrors()
  downloadRoots(): DownloadRootDto[] {
    return this.roots.list().map((r) => ({ rootId: r.id, name: basename(r.path) || r.path }));
  }

  /**
   * Queues a download of a Civitai model version into a library folder. Checked first: the version and its declared
   * SHA-256, the folder (inside the root), free space (409 `insufficient_disk_space`) and the name (409
   * `file_exists`, or `onCollision: rename`). Follow it with `GET /civitai/downloads/{id}` or the `downloads` topic.
   */
  @Post('downloads')
  @HttpCode(202)
  @RequireRole(JOB_START_ROLE[JobName.CivitaiDownload])
  @ApiAcceptedResponse({ type: DownloadDto })
  @ApiWriteErrors(404, 409, 502, 504)
  async start(@Body() body: StartDownloadDto): Promise<DownloadDto> {
    return toCivitaiDownloadDto(await this.downloads.start(body));
  }

  /** Recent downloads, newest first. */
  @Get('downloads')
  @ApiOkResponse({ type: [DownloadDto] })
  @ApiReadErrors()
  async list(): Promise<DownloadDto[]> {
    return (await this.downloads.list()).map(toCivitaiDownloadDto);
  }

  /** One download with its bytes and outcome. */
  @Get('downloads/:id')
  @ApiOkResponse({ type: DownloadDto })
  @ApiReadErrors(404)
  async get(@Param() params: DownloadIdParamDto): Promise<DownloadDto> {
    return toCivitaiDownloadDto(await this.downloads.get(params.id));
  }

  /** Cancels a download: its partial file is removed. */
  @Post('downloads/:id/cancel')
  @HttpCode(200)
  @RequireRole(JOB_START_ROLE[JobName.CivitaiDownload])
  @ApiOkResponse({ type: DownloadCancelDto })
  @ApiWriteErrors(404)
  async cancel(@Param() params: DownloadIdParamDto): Promise<DownloadCancelDto> {
    const { download, outcome } = await this.downloads.cancel(params.id);
    return { download: toCivitaiDownloadDto(download), outcome };
  }

  /**
   * Fetches the linked adapter's Civitai example images (with their generation metadata and NSFW level) into the
   * file storage as a job, so they show offline. 409 when the adapter is not linked to a Civitai version.
   */
  @Post('adapters/:id/examples')
  @HttpCode(202)
  @RequireRole(JOB_START_ROLE[JobName.CivitaiExamples])
  @ApiAcceptedResponse({ type: ExamplesStartedDto })
  @ApiWriteErrors(404, 409)
  startExamples(@Param() params: CivitaiAdapterParamDto): Promise<ExamplesStartedDto> {
    return this.examples.start(params.id);
  }

  /** The adapter's stored example images; an empty list when none were fetched. */
  @Get('adapters/:id/examples')
  @ApiOkResponse({ type: ExampleImagesDto })
  @ApiReadErrors(404)
  async listExamples(@Param() params: CivitaiAdapterParamDto): Promise<ExampleImagesDto> {
    const index = await this.examples.list(params.id);
    return {
      adapterId: params.id,
      versionId: index?.versionId ?? null,
      fetchedAt: index?.fetchedAt ?? null,
      images: (index?.images ?? []).map(({ key: _key, ...image }) => ({
        ...image,
        url: `/api/v1/civitai/adapters/${params.id}/examples/${image.id}`,
      })),
    };
  }

  /** One stored example image's bytes. */
  @Get('adapters/:id/examples/:image')
  @ApiImageResponse(['image/jpeg', 'image/png', 'image/webp', 'image/gif'])
  @ApiReadErrors(404)
  async example(
    @Param() params: ExampleImageParamDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile> {
    const image = await this.examples.open(params.id, params.image);
    res.setHeader('Cache-Control', 'private, max-age=86400');
    return new StreamableFile(image.stream, { type: image.contentType, length: image.size });
  }
}
