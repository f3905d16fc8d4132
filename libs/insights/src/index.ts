export * from './recommendations/index.js';
