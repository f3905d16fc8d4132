import { Body, Controller, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CancelOutcome, type JobInfo, JobName, JobQueue, RequireRole, Role } from '@app/core';
import { CancelResultDto, CreateDiagnosticJobDto, JobCreatedDto, JobDto, JobParamsDto } from './jobs.dto.js';

const toJobDto = (job: JobInfo): JobDto => ({
  ...job,
  createdAt: job.createdAt?.toISOString() ?? null,
  finishedAt: job.finishedAt?.toISOString() ?? null,
});

@ApiTags('jobs')
@Controller('jobs')
export class JobsController {
  constructor(private readonly jobs: JobQueue) {}

  /** Runs a diagnostic job through the queue: proves that workers run jobs and progress reaches clients. */
  @Post('diagnostic')
  @RequireRole(Role.Admin)
  @ApiCreatedResponse({ type: JobCreatedDto })
  async diagnostic(@Body() body: CreateDiagnosticJobDto): Promise<JobCreatedDto> {
    const { id } = await this.jobs.enqueue(JobName.Diagnostic, body);
    return { id, name: JobName.Diagnostic };
  }

  @Get(':name/:id')
  @ApiOkResponse({ type: JobDto })
  async get(@Param() params: JobParamsDto): Promise<JobDto> {
    const job = await this.jobs.get(params.name, params.id);
    if (!job) throw new NotFoundException({ message: `Job ${params.id} not found`, code: 'job_not_found' });
    return toJobDto(job);
  }

  @Post(':name/:id/cancel')
  @HttpCode(200)
  @RequireRole(Role.Editor)
  @ApiOkResponse({ type: CancelResultDto })
  async cancel(@Param() params: JobParamsDto): Promise<CancelResultDto> {
    const outcome = await this.jobs.cancel(params.name, params.id);
    if (outcome === CancelOutcome.NotFound) {
      throw new NotFoundException({ message: `Job ${params.id} not found`, code: 'job_not_found' });
    }
    return { id: params.id, outcome };
  }
}
