import { IsIn, IsInt, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';
import { IsOptionalNonNull } from '../common/validation.js';
import { CancelOutcome, type JobInfo, JobName, JobStatus } from '@app/core';
import { ApiProperty } from '@nestjs/swagger';
import { ApiDateTime, ApiInteger, ApiUuid } from '../common/api-docs.js';

export class CreateDiagnosticJobDto {
  /** Number of steps, each reporting progress. */
  @IsInt()
  @Min(1)
  @Max(1000)
  steps: number;

  /** Milliseconds per step. */
  @IsInt()
  @Min(0)
  @Max(60_000)
  stepMs: number;

  /** Fail at this step (for checking retries and failure reporting). */
  @IsOptionalNonNull()
  @IsInt()
  @Min(1)
  failAtStep?: number;

  /** Fail only on the first N attempts. */
  @IsOptionalNonNull()
  @IsInt()
  @Min(1)
  failAttempts?: number;

  @IsOptionalNonNull()
  @IsString()
  @MaxLength(200)
  label?: string;
}

export class JobParamsDto {
  @IsIn(Object.values(JobName))
  name: JobName;

  @IsUUID()
  id: string;
}

export class JobCreatedDto {
  @ApiUuid()
  id: string;
  name: JobName;
}

/** A `JobInfo` with its times as ISO strings. */
export class JobDto implements Omit<JobInfo, 'createdAt' | 'finishedAt'> {
  @ApiUuid()
  id: string;
  name: JobName;
  status: JobStatus;
  /** 0..1 */
  progress: number;
  @ApiInteger({ minimum: 0 })
  attempts: number;
  /** What the job's handler returned (an object per job name); null until it completes. */
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  result: Record<string, unknown> | null;
  error: string | null;
  @ApiDateTime({ nullable: true })
  createdAt: string | null;
  @ApiDateTime({ nullable: true })
  finishedAt: string | null;
}

export class CancelResultDto {
  @ApiUuid()
  id: string;
  outcome: CancelOutcome;
}
