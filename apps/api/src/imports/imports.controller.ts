import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { type ImportRunEntity, ImportRunService } from '@app/adapters';
import { RequireRole, Role } from '@app/core';
import { ImportIdParamDto, ImportRunDto, StartImportDto } from './imports.dto.js';

export const toImportRunDto = (run: ImportRunEntity): ImportRunDto => ({
  id: run.id,
  status: run.status,
  roots: run.roots,
  dryRun: run.options.dryRun,
  forceResync: run.options.forceResync,
  hash: run.options.hash,
  ignore: run.options.ignore ?? [],
  counts: run.counts,
  failures: run.failures,
  failureCount: run.failureCount,
  error: run.error,
  createdAt: new Date(run.createdAt).toISOString(),
  startedAt: run.startedAt ? new Date(run.startedAt).toISOString() : null,
  finishedAt: run.finishedAt ? new Date(run.finishedAt).toISOString() : null,
});

@ApiTags('imports')
@Controller('imports')
export class ImportsController {
  constructor(private readonly runs: ImportRunService) {}

  /** Starts an import run as a job; follow it with `GET /imports/:id` or the `imports` Socket.IO topic. */
  @Post()
  @RequireRole(Role.Admin)
  @ApiCreatedResponse({ type: ImportRunDto })
  async start(@Body() body: StartImportDto): Promise<ImportRunDto> {
    return toImportRunDto(await this.runs.start(body));
  }

  @Get()
  @ApiOkResponse({ type: [ImportRunDto] })
  async list(): Promise<ImportRunDto[]> {
    return (await this.runs.list()).map(toImportRunDto);
  }

  @Get(':id')
  @ApiOkResponse({ type: ImportRunDto })
  async get(@Param() params: ImportIdParamDto): Promise<ImportRunDto> {
    return toImportRunDto(await this.runs.get(params.id));
  }
}
