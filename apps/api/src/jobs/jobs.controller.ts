import { Body, Controller, ForbiddenException, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import {
  CancelOutcome,
  JOB_START_ROLE,
  type JobInfo,
  JobName,
  JobQueue,
  type Principal,
  Role,
  roleSatisfies,
} from '@app/core';
import { RequireRole } from '@app/core/http';
import { DeliveryService, DisclosurePolicy } from '@app/delivery';
import { CurrentPrincipal } from '../common/principal.decorator.js';
import { CancelResultDto, CreateDiagnosticJobDto, JobCreatedDto, JobDto, JobParamsDto } from './jobs.dto.js';
import { ApiReadErrors, ApiWriteErrors } from '../common/api-docs.js';

const toJobDto = (job: JobInfo): JobDto => ({
  ...job,
  // Handlers return objects (see each JobHandler); nothing until the job completes.
  result: (job.result ?? null) as Record<string, unknown> | null,
  createdAt: job.createdAt?.toISOString() ?? null,
  finishedAt: job.finishedAt?.toISOString() ?? null,
});

@ApiTags('jobs')
@Controller('jobs')
export class JobsController {
  constructor(
    private readonly jobs: JobQueue,
    private readonly deliveries: DeliveryService,
    private readonly disclosure: DisclosurePolicy,
  ) {}

  /** Runs a diagnostic job through the queue: proves that workers run jobs and progress reaches clients. */
  @Post('diagnostic')
  @RequireRole(JOB_START_ROLE[JobName.Diagnostic])
  @ApiCreatedResponse({ type: JobCreatedDto })
  @ApiWriteErrors()
  async diagnostic(@Body() body: CreateDiagnosticJobDto): Promise<JobCreatedDto> {
    const { id } = await this.jobs.enqueue(JobName.Diagnostic, body);
    return { id, name: JobName.Diagnostic };
  }

  /** A queue job's status, progress, attempts and result. */
  @Get(':name/:id')
  @ApiOkResponse({ type: JobDto })
  @ApiReadErrors(404)
  async get(@Param() params: JobParamsDto, @CurrentPrincipal() principal: Principal): Promise<JobDto> {
    const job = await this.jobs.get(params.name, params.id);
    if (!job) throw new NotFoundException({ message: `Job ${params.id} not found`, code: 'job_not_found' });
    return this.disclosure.value(principal.role, toJobDto(job));
  }

  /** Needs the role that may start such a job: admin for diagnostics, imports and CLI deliveries, else editor. */
  @Post(':name/:id/cancel')
  @HttpCode(200)
  @RequireRole(Role.Editor)
  @ApiOkResponse({ type: CancelResultDto })
  @ApiWriteErrors(404)
  async cancel(@Param() params: JobParamsDto, @CurrentPrincipal() principal: Principal): Promise<CancelResultDto> {
    const required =
      params.name === JobName.Delivery ? await this.deliveries.roleToCancel(params.id) : JOB_START_ROLE[params.name];
    if (!roleSatisfies(principal.role, required)) {
      throw new ForbiddenException({
        message: `Cancelling a ${params.name} job needs the ${required} role`,
        code: 'forbidden',
      });
    }
    const outcome = await this.jobs.cancel(params.name, params.id);
    if (outcome === CancelOutcome.NotFound) {
      throw new NotFoundException({ message: `Job ${params.id} not found`, code: 'job_not_found' });
    }
    return { id: params.id, outcome };
  }
}
