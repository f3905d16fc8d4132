import { Body, Controller, Get, HttpCode, Param, Post, Query, Res, StreamableFile } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { GenerationService } from '@app/generation';
import type { Response } from 'express';
import {
  BackendDto,
  BackendOptionsDto,
  BackendParamsDto,
  ComposeAndGenerateDto,
  ComposeAndGenerateResultDto,
  GenerationImageParamsDto,
  GenerationJobDto,
  GenerationJobListDto,
  GenerationJobParamsDto,
  GenerationProgressDto,
  GenerationRequestDto,
  ListGenerationJobsQueryDto,
  SyncGenerationDto,
} from './generation.dto.js';
import { toGenerationJobDto, toGenerationProgressDto, toSyncGenerationDto } from './generation.mapper.js';
import {
  ApiConfigReadErrors,
  ApiErrorResponses,
  ApiReadErrors,
  ApiWriteErrors,
  ApiImageResponse,
} from '../common/api-docs.js';

@ApiTags('generation')
@Controller('generation')
export class GenerationController {
  constructor(private readonly generation: GenerationService) {}

  /** Configured SD.Next backends: reachability, SD.Next or A1111, version, loaded model, busy. */
  @Get('backends')
  @ApiOkResponse({ type: BackendDto, isArray: true })
  @ApiConfigReadErrors()
  backends(): Promise<BackendDto[]> {
    return this.generation.listBackends();
  }

  /** The samplers and checkpoints the backend offers, asked of it now (502 when it does not answer). */
  @Get('backends/:backendId/options')
  @ApiOkResponse({ type: BackendOptionsDto })
  @ApiErrorResponses(400, 401, 403, 404, 502, 503, 504)
  backendOptions(@Param() params: BackendParamsDto): Promise<BackendOptionsDto> {
    return this.generation.backendOptions(params.backendId);
  }

  /** Generates and waits for the images (502 when SD.Next fails, 504 when it does not answer in time). */
  @Post('generate')
  @HttpCode(200)
  @ApiOkResponse({ type: SyncGenerationDto })
  @ApiWriteErrors(404, 409, 502, 504)
  async generate(@Body() body: GenerationRequestDto): Promise<SyncGenerationDto> {
    return toSyncGenerationDto(await this.generation.generate(body));
  }

  /** Queues a generation and returns its job at once; follow it on Socket.IO or with `progress/:jobId`. */
  @Post('queue-generation')
  @ApiCreatedResponse({ type: GenerationJobDto })
  @ApiWriteErrors()
  async queue(@Body() body: GenerationRequestDto): Promise<GenerationJobDto> {
    return toGenerationJobDto(await this.generation.queue(body));
  }

  /** Composes the prompt from the library, then generates with it (queued by default, or synchronously). */
  @Post('compose-and-generate')
  @ApiCreatedResponse({ type: ComposeAndGenerateResultDto })
  @ApiWriteErrors(404, 409, 502, 504)
  async composeAndGenerate(@Body() body: ComposeAndGenerateDto): Promise<ComposeAndGenerateResultDto> {
    const result = await this.generation.composeAndGenerate(body.compose, body.generation ?? {}, body.queued ?? true);
    return {
      composition: result.composition,
      job: toGenerationJobDto(result.job),
      images: result.images ? toSyncGenerationDto({ job: result.job, images: result.images }).images : null,
    };
  }

  /** A generation's progress: status, step of steps, ETA. */
  @Get('progress/:jobId')
  @ApiOkResponse({ type: GenerationProgressDto })
  @ApiReadErrors(404)
  async progress(@Param() params: GenerationJobParamsDto): Promise<GenerationProgressDto> {
    return toGenerationProgressDto(await this.generation.get(params.jobId));
  }

  /** Generation jobs, newest first, optionally of one status. */
  @Get('jobs')
  @ApiOkResponse({ type: GenerationJobListDto })
  @ApiReadErrors()
  async list(@Query() query: ListGenerationJobsQueryDto): Promise<GenerationJobListDto> {
    const limit = query.limit ?? 50;
    const offset = query.offset ?? 0;
    const page = await this.generation.list({ status: query.status, limit, offset });
    return { items: page.items.map(toGenerationJobDto), total: page.total, limit, offset };
  }

  /** One generation job with its request, images and outcome. */
  @Get('jobs/:jobId')
  @ApiOkResponse({ type: GenerationJobDto })
  @ApiReadErrors(404)
  async get(@Param() params: GenerationJobParamsDto): Promise<GenerationJobDto> {
    return toGenerationJobDto(await this.generation.get(params.jobId));
  }

  /** Queued: removed and cancelled. Running: SD.Next is interrupted and the job ends cancelled. Finished: 409. */
  @Post('jobs/:jobId/cancel')
  @HttpCode(200)
  @ApiOkResponse({ type: GenerationJobDto })
  @ApiWriteErrors(404, 409)
  async cancel(@Param() params: GenerationJobParamsDto): Promise<GenerationJobDto> {
    return toGenerationJobDto(await this.generation.cancel(params.jobId));
  }

  /** The stored image bytes with their sniffed content type. */
  @Get('jobs/:jobId/images/:index')
  @ApiImageResponse()
  @ApiReadErrors(404)
  async image(
    @Param() params: GenerationImageParamsDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<StreamableFile> {
    const image = await this.generation.image(params.jobId, params.index);
    res.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
    return new StreamableFile(image.bytes, { type: image.contentType, length: image.bytes.length });
  }
}
