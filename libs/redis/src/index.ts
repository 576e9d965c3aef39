export * from './redis-target.js';
export * from './redis-connection.js';
export * from './redis-url.js';
export * from './redis.module.js';
export * from './lua-script.js';
export * from './redis-unavailable.js';
export * from './failover-signal.js';
