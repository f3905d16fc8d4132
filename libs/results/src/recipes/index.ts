export * from './image-metadata.js';
export * from './recipe-loras.js';
export * from './recipe-parsing.js';
export * from './recipe.entity.js';
export * from './recipe.repository.js';
export * from './recipes.module.js';
export * from './recipes.service.js';
