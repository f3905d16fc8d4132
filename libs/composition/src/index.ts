export * from './composer/index.js';
export * from './composition.module.js';
export * from './composition.service.js';
export * from './lora-name-source.js';
