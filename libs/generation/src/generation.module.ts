import { Module } from '@nestjs/common';
import { JobName, rowIdQueuedJobSource } from '@app/core';
import { BackendLeaseRepository } from './backend-lease.repository.js';
import { BackendLeaseService } from './backend-lease.service.js';
import { GenerationJobHandler } from './generation-job.handler.js';
import { GenerationJobRepository } from './generation-job.repository.js';
import { GenerationRunner } from './generation.runner.js';
import { GenerationSpool } from './generation-spool.js';
import { GenerationService } from './generation.service.js';
import { CompositionModule } from '@app/composition';
import { SdNextBackendsModule } from './sdnext-backends.module.js';

/** Generation on SD.Next: imported by the API (endpoints, embedded runner) and the worker (queued jobs). */
@Module({
  imports: [SdNextBackendsModule, CompositionModule],
  providers: [
    BackendLeaseRepository,
    BackendLeaseService,
    GenerationJobRepository,
    GenerationRunner,
    GenerationSpool,
    GenerationService,
    GenerationJobHandler,
    rowIdQueuedJobSource(JobName.Generation, GenerationJobRepository),
  ],
  exports: [GenerationService, CompositionModule],
})
export class GenerationModule {}
