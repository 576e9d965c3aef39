export * from './listener-directory.js';
export * from './group-queue.js';
export * from './listener-counts.js';
export * from './order-enqueuer.js';
export * from './queues.module.js';
export * from './record-places.js';
