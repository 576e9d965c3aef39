export * from './order-publisher.js';
export * from './publisher.module.js';
