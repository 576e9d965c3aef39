export * from './basic-auth.js';
export * from './health.js';
export * from './log-context.js';
export * from './logging.js';
export * from './metrics.js';
export * from './observability.module.js';
export * from './openapi.js';
export * from './queue-metrics.js';
