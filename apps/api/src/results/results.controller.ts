import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  Res,
  StreamableFile,
} from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ResultsService } from '@app/results';
import type { Response } from 'express';
import { ApiReadErrors, ApiWriteErrors, ApiImageResponse } from '../common/api-docs.js';
import {
  BulkFavoriteDto,
  BulkOutcomeDto,
  BulkTagDto,
  ListResultsQueryDto,
  PatchResultDto,
  ResultDto,
  ResultIdsDto,
  ResultListDto,
  ResultParamsDto,
  ReuseResultQueryDto,
  ReusedResultDto,
} from './results.dto.js';
import { ApiThumbnailResponses, sendThumbnail, ThumbnailQueryDto } from '../common/thumbnail-response.js';
import { toResultDto } from './results.mapper.js';

@ApiTags('results')
@Controller('results')
export class ResultsController {
  constructor(private readonly results: ResultsService) {}

  /** Generated images, newest first by default, filtered; keyset paging with `cursor`. */
  @Get()
  @ApiOkResponse({ type: ResultListDto })
  @ApiReadErrors()
  async list(@Query() query: ListResultsQueryDto): Promise<ResultListDto> {
    const limit = query.limit ?? 50;
    const page = await this.results.list({
      ...query,
      from: query.from === undefined ? undefined : new Date(query.from),
      to: query.to === undefined ? undefined : new Date(query.to),
      limit,
    });
    return { items: page.items.map(toResultDto), nextCursor: page.nextCursor, limit };
  }

  /** Deletes results and their files; ids that name no result come back in `missing`. */
  @Post('bulk-delete')
  @HttpCode(200)
  @ApiOkResponse({ type: BulkOutcomeDto })
  @ApiWriteErrors()
  bulkDelete(@Body() body: ResultIdsDto): Promise<BulkOutcomeDto> {
    return this.results.deleteMany(body.ids);
  }

  /** Sets or clears the favorite flag of results. */
  @Post('bulk-favorite')
  @HttpCode(200)
  @ApiOkResponse({ type: BulkOutcomeDto })
  @ApiWriteErrors()
  bulkFavorite(@Body() body: BulkFavoriteDto): Promise<BulkOutcomeDto> {
    return this.results.setFavorite(body.ids, body.favorite);
  }

  /** Adds and removes tags on results. */
  @Post('bulk-tag')
  @HttpCode(200)
  @ApiOkResponse({ type: BulkOutcomeDto })
  @ApiWriteErrors()
  bulkTag(@Body() body: BulkTagDto): Promise<BulkOutcomeDto> {
    return this.results.tag(body.ids, body.add ?? [], body.remove ?? []);
  }

  /** One result with its parameters, LoRAs and user fields. */
  @Get(':id')
  @ApiOkResponse({ type: ResultDto })
  @ApiReadErrors(404)
  async get(@Param() params: ResultParamsDto): Promise<ResultDto> {
    return toResultDto(await this.results.get(params.id));
  }

  /** The original image, streamed; PNGs carry the A1111 `parameters` infotext. */
  @Get(':id/image')
  @ApiImageResponse()
  @ApiReadErrors(404)
  async image(@Param() params: ResultParamsDto, @Res({ passthrough: true }) res: Response): Promise<StreamableFile> {
    const image = await this.results.image(params.id);
    res.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
    return new StreamableFile(image.stream, {
      type: image.contentType,
      length: image.size,
      disposition: `inline; filename="${image.fileName}"`,
    });
  }

  /**
   * A WebP thumbnail of the image (256 or 768 px on the long side), kept in storage: the 256 px one is made just
   * after the result is saved, the 768 px one (and any missing) on first request.
   * A result's image never changes, so the URL names its bytes: cached for a year, revalidated by ETag.
   */
  @Get(':id/thumbnail')
  @ApiThumbnailResponses()
  @ApiReadErrors(404, 422)
  async thumbnail(
    @Param() params: ResultParamsDto,
    @Query() query: ThumbnailQueryDto,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile | undefined> {
    const answer = await this.results.thumbnail(params.id, query.size ?? 256, ifNoneMatch);
    return sendThumbnail(answer, res, 'private, max-age=31536000, immutable');
  }

  /** The generation request that makes this image again (same parameters, LoRAs by id); the seed is optional. */
  @Get(':id/reuse')
  @ApiOkResponse({ type: ReusedResultDto })
  @ApiReadErrors(404)
  reuse(@Param() params: ResultParamsDto, @Query() query: ReuseResultQueryDto): Promise<ReusedResultDto> {
    return this.results.reuse(params.id, query.keepSeed ?? true);
  }

  /** Rating (0–5), favorite, tags (replaced) and notes. */
  @Patch(':id')
  @ApiOkResponse({ type: ResultDto })
  @ApiWriteErrors(404)
  async patch(@Param() params: ResultParamsDto, @Body() body: PatchResultDto): Promise<ResultDto> {
    return toResultDto(await this.results.update(params.id, body));
  }

  /** Deletes the result and its file. */
  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiReadErrors(404)
  async delete(@Param() params: ResultParamsDto): Promise<void> {
    await this.results.delete(params.id);
  }
}
