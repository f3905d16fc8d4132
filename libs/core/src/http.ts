// The HTTP-only part of core, for the processes that serve HTTP: the API, and each worker's health port.
export * from './health/health.routes.js';
export * from './health/health.module.js';
export * from './health/migration-status.service.js';
export * from './health/readiness.service.js';
export * from './security/roles.decorator.js';
