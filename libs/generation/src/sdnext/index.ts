export * from './image-sniff.js';
export * from './sdnext.client.js';
export * from './sdnext.errors.js';
export * from './sdnext.types.js';
