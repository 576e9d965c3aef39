export * from './listeners-app.js';
export * from './listener-module.js';
export * from './http-module.js';
export * from './messages.js';
export * from './private-redis.js';
export * from './wait-for.js';
export * from './captured-logger.js';
export * from './app-process.js';
export * from './operator.js';
export * from './keyspace.js';
export * from './purchase-stream.js';
export * from './test-logger.js';
// Topologies for tests of high availability: replicas with Sentinel, a managed service's
// endpoint, Redis Cluster.
export type { HostPort } from './ports.js';
export * from './topologies/cluster-topology.js';
export * from './topologies/redis-endpoint.js';
export * from './topologies/sentinel.js';
export * from './topologies/sentinel-topology.js';
/** The delivery modes, for `describe.each(DELIVERY_MODES)`. */
export { DELIVERY_MODES, type DeliveryMode } from '@podium/core';
