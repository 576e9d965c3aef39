/*
 * Every key of podium's own, in one place. A message type's own keys (its records, what
 * its listeners write) are the type's; the keys the infrastructure writes (the replication
 * fence, the readiness probe) are in @podium/redis' redis-keys.ts.
 *
 * The keys per message are named by its id alone: a listener and a listener group handle
 * one message type, and their names are unique, so the markers' fields and the outbox
 * entries of two types never meet, even for one id.
 */

/**
 * One hash per message, its markers. Field <listener>: '1' once that listener applied the
 * message, '0' once it skipped it (not for it); checked and set in the same script as the
 * effects, so a message is applied at most once per listener. Field `queued:<group>` (see
 * queuedField): set once the message's job for that group is queued or on its way (by the
 * publisher as it recorded it, or by a listeners process that heard it announced by
 * another program), so that a message is queued once per group whoever announces it.
 */
export const appliedKey = (id: string): string => `podium:applied:${id}`;

/**
 * Hash, the trace context a message was published in (OpenTelemetry): the propagator's
 * fields (W3C `traceparent`, `tracestate`). Written by the record script beside the record,
 * only while the publication is traced (a span is recording), and read by the listeners with
 * the record, so that their spans join the publication's trace; the announcement itself
 * stays the bare id. It lives in the record's slot and expires after
 * TRACE_CONTEXT_TTL_SECONDS: an announcement worked on later, or a message another program
 * announced, starts a trace of its own.
 */
export const traceContextKey = (id: string): string => `podium:trace:${id}`;

/** How long a message's trace context is kept: long enough for its announcement to be worked on. */
export const TRACE_CONTEXT_TTL_SECONDS = 30;

/** The marker field saying that a message is queued for a group (listener names hold no ':'). */
export const queuedField = (group: string): string => `queued:${group}`;

/**
 * Per-listener counters, across processes: announced (by podium's publisher, on a channel
 * the listener subscribes to), applied, skipped (not for it), duplicates, rejected (not a
 * readable message), failed (now in its failed set), lost (could not be kept: not enqueued).
 */
export const listenerStatsKey = (listener: string): string =>
  `podium:stats:${listener}`;

/** An ephemeral listener's failed set: message id -> JSON {error, failedAt}. Queued and durable ones use their BullMQ queue's. */
export const failedMessagesKey = (listener: string): string =>
  `podium:failed:${listener}`;

/** A publication's Idempotency-Key: the message it recorded and the request's fingerprint (24 h). */
export const idempotencyKey = (key: string): string =>
  `podium:idempotency:${key}`;

/**
 * Sorted set, the transactional outbox: member = `<group> <message id>` for a job that
 * must exist and may not yet (the message is recorded, or claimed, for that group), score
 * = epoch ms on Redis's clock. Removed once the job exists; what stays past the grace, a
 * relay queues (see OutboxRelay).
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

/** What every rateLimitKey starts with. */
export const RATE_LIMIT_PREFIX = 'podium:rate-limit:';
/**
 * Hash: one client's requests on one rate-limited HTTP route (the box office's `purchases`,
 * `events`) in the current window, counted by every process that serves the route; it
 * expires with its window, or with the client's block once past the limit (see
 * count-request.lua). One key per script: on a cluster it keeps its name, in its own slot.
 */
export const rateLimitKey = (route: string, client: string): string =>
  `${RATE_LIMIT_PREFIX}${route}:${client}`;

/** BullMQ's keys: podium:queue:<queue>:... (one queue per listener group). */
export const QUEUE_PREFIX = 'podium:queue';

/**
 * A key name in each place a message's effects are written to: WAIT is routed by it to
 * that place's slot on a cluster (nothing is stored under it).
 */
export const EFFECTS_PLACE_KEY = 'podium:effects';
