import { Global, Module } from '@nestjs/common';
import { LeasesModule } from '@app/core';
import { AdaptersModule } from '@app/adapters';
import { GenerationResultSink } from '@app/generation';
import { ResultExportService } from './export/result-export.service.js';
import { GenerationResultRepository } from './generation-result.repository.js';
import { ResultRecorder } from './result-recorder.js';
import { ResultRetentionService } from './retention/result-retention.service.js';
import { StorageCheckService } from './retention/storage-check.service.js';
import { ResultsService } from './results.service.js';

/**
 * Records generation results and serves them. Global so that the generation runner (which must not import the
 * lib above it) finds the {@link GenerationResultSink} in the API and in the worker alike.
 */
@Global()
@Module({
  imports: [AdaptersModule, LeasesModule],
  providers: [
    GenerationResultRepository,
    ResultRecorder,
    ResultsService,
    ResultExportService,
    ResultRetentionService,
    StorageCheckService,
    { provide: GenerationResultSink, useExisting: ResultRecorder },
  ],
  exports: [GenerationResultSink, ResultsService, ResultExportService, ResultRetentionService, StorageCheckService],
})
export class ResultsModule {}
