export * from './lexical-similarity-index.js';
export * from './recommendation.entities.js';
export * from './recommendation-index.service.js';
export * from './recommendations.module.js';
export * from './recommendations.repository.js';
export * from './recommendations.service.js';
export * from './similarity-index.js';
export * from './text-analysis.js';
