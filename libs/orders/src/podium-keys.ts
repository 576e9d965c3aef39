/*
 * Every key of podium's own (the seed defines none of them), in one place. The seed's
 * keys and channels are in keys.ts; the keys the infrastructure writes (the replication
 * fence, the readiness probe) in @podium/redis' redis-keys.ts.
 */

/**
 * One hash per order, its markers. Field <listener>: '1' once that listener applied the
 * order, '0' once it skipped it (not for it); checked and set in the same script as the
 * effects, so an order is applied at most once per listener. Field `queued:<group>` (see
 * queuedField): set once the order's job for that group is queued or on its way (by the
 * box office as it recorded it, or by a listeners process that heard it announced by
 * another program), so that an order is queued once per group whoever announces it.
 */
export const appliedKey = (orderId: string): string =>
  `podium:applied:${orderId}`;

/** The marker field saying that an order is queued for a group (listener names hold no ':'). */
export const queuedField = (group: string): string => `queued:${group}`;

/**
 * Per-listener counters, across processes: announced (by podium's box office, on a channel
 * the listener subscribes to), applied, skipped (not for it), duplicates, rejected (not a
 * readable order), failed (now in its failed set), lost (could not be kept: not enqueued).
 */
export const listenerStatsKey = (listener: string): string =>
  `podium:stats:${listener}`;

/** An ephemeral listener's failed set: order id -> JSON {error, failedAt}. Queued and durable ones use their BullMQ queue's. */
export const failedOrdersKey = (listener: string): string =>
  `podium:failed:${listener}`;

/** A purchase's Idempotency-Key: the order it recorded and the request's fingerprint (24 h). */
export const idempotencyKey = (key: string): string =>
  `podium:idempotency:${key}`;

/**
 * Sorted set, the transactional outbox: member = `<group> <order id>` for a job that must
 * exist and may not yet (the order is recorded, or claimed, for that group), score = epoch
 * ms on Redis's clock. Removed once the job exists; what stays past the grace, a relay
 * queues (see OutboxRelay).
 */
export const OUTBOX = 'podium:outbox';
/**
 * Set, on a Redis Cluster only: the places (hash tags, see Keyspace) where podium keeps
 * keys per slot on the record path, an outbox and announced counts, so that relays and
 * readers find every one of them.
 */
export const PLACES = 'podium:places';
/** String: the id of the relay working on the outbox, with an expiry (see OutboxRelay). */
export const OUTBOX_LEASE = 'podium:outbox:lease';

/** Hash: listener name -> JSON of what the last listeners process to start it announced. */
export const LISTENER_DIRECTORY = 'podium:listeners';
/** Hash: group name -> JSON DurableSubscription. It outlives every process. */
export const DURABLE_SUBSCRIPTIONS = 'podium:durable-subscriptions';

/** BullMQ's keys: podium:queue:<queue>:... (one queue per listener group). */
export const QUEUE_PREFIX = 'podium:queue';

/**
 * A key name in each place an order's effects are written to: WAIT is routed by it to that
 * place's slot on a cluster (nothing is stored under it).
 */
export const EFFECTS_PLACE_KEY = 'podium:effects';
