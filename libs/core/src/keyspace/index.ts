export * from './keyspace.js';
export * from './keyspace.module.js';
export * from './podium-keys.js';
