export * from './delivery-mode.js';
export * from './listener-directory.js';
export * from './group-queue.js';
export * from './listener-counts.js';
