export * from './keys.js';
export * from './glob.js';
export * from './histogram.js';
export * from './order.js';
export * from './announcement.js';
export * from './podium-keys.js';
export * from './keyspace/cluster-slots.js';
export * from './keyspace/keyspace.js';
