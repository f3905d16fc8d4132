export * from './generation-result.entity.js';
export * from './image-facts.js';
export * from './infotext.js';
export * from './result-query.js';
export * from './result-recorder.js';
export * from './results.module.js';
export * from './results.service.js';
export * from './recipes/index.js';
