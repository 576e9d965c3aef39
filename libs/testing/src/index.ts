export * from './listeners-app.js';
export * from './orders.js';
export * from './private-redis.js';
export * from './wait-for.js';
export * from './captured-logger.js';
export * from './app-process.js';
export * from './operator.js';
export * from './keyspace.js';
