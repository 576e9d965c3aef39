/*
 * The keys the infrastructure itself writes, in one place (podium's keys of orders, queues
 * and listeners are in @podium/orders' podium-keys.ts; the seed's in its keys.ts).
 */

/**
 * A write made just before WAIT: it moves the connection's replication offset to the
 * server's current one, so WAIT then covers everything the server holds, also what this
 * connection only read (a replayed order recorded by an earlier request). On a cluster one
 * per slot written to, behind that slot's tag.
 */
export const REPLICATION_FENCE_KEY = 'podium:replication:fence';

/** The key the readiness probe writes (a few bytes, expiring after a minute). */
export const READINESS_PROBE_KEY = 'podium:health:probe';
