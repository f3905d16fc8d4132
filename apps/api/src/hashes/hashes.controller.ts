import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { type HashRunEntity, HashRunService, HashRunTrigger } from '@app/adapters';
import { JOB_START_ROLE, JobName, type Principal } from '@app/core';
import { RequireRole } from '@app/core/http';
import { DisclosurePolicy } from '@app/delivery';
import { CurrentPrincipal } from '../common/principal.decorator.js';
import { jobTimesOf } from '../common/list-page.dto.js';
import { ApiReadErrors, ApiWriteErrors } from '../common/api-docs.js';
import { HashRunCancelDto, HashRunDto, HashRunIdParamDto, HashRunStartedDto, HashStatusDto } from './hashes.dto.js';

export const toHashRunDto = (run: HashRunEntity): HashRunDto => ({
  id: run.id,
  status: run.status,
  trigger: run.trigger,
  counts: run.counts,
  failures: run.failures,
  error: run.error,
  ...jobTimesOf(run),
});

@ApiTags('hashes')
@Controller('hashes')
export class HashesController {
  constructor(
    private readonly runs: HashRunService,
    private readonly disclosure: DisclosurePolicy,
  ) {}

  /** How many present adapters have a hash computed from their file, and the active and last hash runs. */
  @Get()
  @ApiOkResponse({ type: HashStatusDto })
  @ApiReadErrors()
  async status(): Promise<HashStatusDto> {
    const s = await this.runs.status();
    return {
      adapters: s.adapters,
      verified: s.verified,
      unverified: s.unverified,
      activeRunId: s.active?.id ?? null,
      lastRunId: s.last?.id ?? null,
      lastRunStatus: s.last?.status ?? null,
    };
  }

  /**
   * Starts a hash run over every present file whose hash was never computed (newest first), or returns the one
   * already queued or running. Follow it with `GET /hashes/runs/:id` or the `hashes` Socket.IO topic.
   */
  @Post('runs')
  @RequireRole(JOB_START_ROLE[JobName.Hash])
  @ApiCreatedResponse({ type: HashRunStartedDto })
  @ApiWriteErrors()
  async start(@CurrentPrincipal() principal: Principal): Promise<HashRunStartedDto> {
    const { run, created } = await this.runs.start(HashRunTrigger.Api);
    return { run: this.disclosure.value(principal.role, toHashRunDto(run)), created };
  }

  /** Recent hash runs, newest first. */
  @Get('runs')
  @ApiOkResponse({ type: [HashRunDto] })
  @ApiReadErrors()
  async list(@CurrentPrincipal() principal: Principal): Promise<HashRunDto[]> {
    return (await this.runs.list()).map((run) => this.disclosure.value(principal.role, toHashRunDto(run)));
  }

  /** One hash run with its counts and failures. */
  @Get('runs/:id')
  @ApiOkResponse({ type: HashRunDto })
  @ApiReadErrors(404)
  async get(@Param() params: HashRunIdParamDto, @CurrentPrincipal() principal: Principal): Promise<HashRunDto> {
    return this.disclosure.value(principal.role, toHashRunDto(await this.runs.get(params.id)));
  }

  /** Cancels a hash run: a queued one ends at once, a running one after the file it is hashing. */
  @Post('runs/:id/cancel')
  @HttpCode(200)
  @RequireRole(JOB_START_ROLE[JobName.Hash])
  @ApiOkResponse({ type: HashRunCancelDto })
  @ApiWriteErrors(404)
  async cancel(
    @Param() params: HashRunIdParamDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<HashRunCancelDto> {
    const { run, outcome } = await this.runs.cancel(params.id);
    return { run: this.disclosure.value(principal.role, toHashRunDto(run)), outcome };
  }
}
