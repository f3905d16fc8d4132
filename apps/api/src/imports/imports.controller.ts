import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { type ImportRunEntity, ImportRunService } from '@app/adapters';
import { JOB_START_ROLE, JobName, type Principal } from '@app/core';
import { RequireRole } from '@app/core/http';
import { DisclosurePolicy } from '@app/delivery';
import { CurrentPrincipal } from '../common/principal.decorator.js';
import { ImportIdParamDto, ImportRunDto, StartImportDto } from './imports.dto.js';
import { jobTimesOf } from '../common/list-page.dto.js';
import { ApiReadErrors, ApiWriteErrors } from '../common/api-docs.js';

export const toImportRunDto = (run: ImportRunEntity): ImportRunDto => ({
  id: run.id,
  status: run.status,
  roots: run.roots,
  dryRun: run.options.dryRun,
  forceResync: run.options.forceResync,
  hash: run.options.hash,
  ignore: run.options.ignore ?? [],
  // Runs recorded before `hashed` existed have none.
  counts: { ...run.counts, hashed: run.counts.hashed ?? 0 },
  failures: run.failures,
  failureCount: run.failureCount,
  error: run.error,
  ...jobTimesOf(run),
});

@ApiTags('imports')
@Controller('imports')
export class ImportsController {
  constructor(
    private readonly runs: ImportRunService,
    private readonly disclosure: DisclosurePolicy,
  ) {}

  /** Starts an import run as a job; follow it with `GET /imports/:id` or the `imports` Socket.IO topic. */
  @Post()
  @RequireRole(JOB_START_ROLE[JobName.Import])
  @ApiCreatedResponse({ type: ImportRunDto })
  @ApiWriteErrors()
  async start(@Body() body: StartImportDto): Promise<ImportRunDto> {
    return toImportRunDto(await this.runs.start(body));
  }

  /** Recent import runs, newest first. */
  @Get()
  @ApiOkResponse({ type: [ImportRunDto] })
  @ApiReadErrors()
  async list(@CurrentPrincipal() principal: Principal): Promise<ImportRunDto[]> {
    return (await this.runs.list()).map((run) => this.disclosure.value(principal.role, toImportRunDto(run)));
  }

  /** One import run with its counts and failures. */
  @Get(':id')
  @ApiOkResponse({ type: ImportRunDto })
  @ApiReadErrors(404)
  async get(@Param() params: ImportIdParamDto, @CurrentPrincipal() principal: Principal): Promise<ImportRunDto> {
    return this.disclosure.value(principal.role, toImportRunDto(await this.runs.get(params.id)));
  }
}
