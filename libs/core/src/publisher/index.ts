export * from './message-publisher.js';
export * from './outbox/outbox.js';
export * from './outbox/outbox-metrics.js';
export * from './outbox/outbox-relay.js';
export * from './outbox/outbox.module.js';
export * from './publisher.module.js';
export * from './record-replication.js';
