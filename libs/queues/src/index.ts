export * from './delivery-mode.js';
export * from './listener-directory.js';
export * from './listener-queue.js';
