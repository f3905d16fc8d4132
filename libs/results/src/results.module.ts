import { Global, Module } from '@nestjs/common';
import { AdaptersModule } from '@app/adapters';
import { GenerationResultSink } from '@app/generation';
import { GenerationResultRepository } from './generation-result.repository.js';
import { ResultRecorder } from './result-recorder.js';
import { ResultsService } from './results.service.js';

/**
 * Records generation results and serves them. Global so that the generation runner (which must not import the
 * lib above it) finds the {@link GenerationResultSink} in the API and in the worker alike.
 */
@Global()
@Module({
  imports: [AdaptersModule],
  providers: [
    GenerationResultRepository,
    ResultRecorder,
    ResultsService,
    { provide: GenerationResultSink, useExisting: ResultRecorder },
  ],
  exports: [GenerationResultSink, ResultsService],
})
export class ResultsModule {}
