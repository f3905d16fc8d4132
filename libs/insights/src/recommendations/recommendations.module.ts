import { Module } from '@nestjs/common';
import { LexicalSimilarityModel } from './lexical-similarity-index.js';
import { RecommendationIndexService } from './recommendation-index.service.js';
import { RecommendationsRebuildJobHandler } from './recommendations-rebuild.handler.js';
import { RecommendationsRepository } from './recommendations.repository.js';
import { RecommendationsService } from './recommendations.service.js';
import { SimilarityModel } from './similarity-index.js';

/** Similar adapters, adapters for a prompt or a trigger word, feedback, and the index rebuild job. */
@Module({
  providers: [
    RecommendationsRepository,
    RecommendationIndexService,
    RecommendationsService,
    RecommendationsRebuildJobHandler,
    // The text model: replace this binding to use embeddings; callers only see `SimilarityModel`.
    { provide: SimilarityModel, useClass: LexicalSimilarityModel },
  ],
  exports: [RecommendationsService],
})
export class RecommendationsModule {}
