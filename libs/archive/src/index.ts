export * from './adapter-merge.js';
export * from './archive-export.service.js';
export * from './archive-format.js';
export * from './archive-import.service.js';
export * from './archive.module.js';
export * from './backup.service.js';
export * from './sqlite-restore.js';
