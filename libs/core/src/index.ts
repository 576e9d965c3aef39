export * from './messages/index.js';
export * from './keyspace/index.js';
export * from './config/index.js';
export * from './observability/index.js';
export * from './queues/index.js';
export * from './publisher/index.js';
export * from './delivery/index.js';
export * from './module/index.js';
