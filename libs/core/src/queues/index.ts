export * from './listener-directory.js';
export * from './group-queue.js';
export * from './listener-counts.js';
export * from './message-enqueuer.js';
export * from './queues.module.js';
export * from './record-places.js';
