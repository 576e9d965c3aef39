import type { PodiumEnv } from './podium-env.js';

/**
 * What podium's engine reads of its configuration, named after the environment variables
 * the podium apps set them with. PodiumModule builds it from its options; a PodiumEnv (the
 * apps' whole environment) is one too, so code outside a Nest app (a script, the bench)
 * can pass that.
 */
export type PodiumSettings = Pick<
  PodiumEnv,
  | 'redisTarget'
  | 'REDIS_WAIT_REPLICAS'
  | 'REDIS_WAIT_TIMEOUT_MS'
  | 'LISTENERS'
  | 'DELIVERY'
  | 'deliveryOverrides'
  | 'groupOverrides'
  | 'MAX_IN_FLIGHT'
  | 'QUEUE_CONCURRENCY'
  | 'QUEUE_ATTEMPTS'
  | 'QUEUE_BACKOFF_MS'
  | 'QUEUE_LOCK_MS'
  | 'QUEUE_STALLED_CHECK_MS'
  | 'OUTBOX_GRACE_MS'
  | 'OUTBOX_RELAY_INTERVAL_MS'
  | 'OUTBOX_WARN_AGE_SECONDS'
  | 'APPLIED_MARKER_TTL_SECONDS'
>;

/** Injection token of the app's PodiumSettings (provided by PodiumModule). */
export const PODIUM_SETTINGS = Symbol('PODIUM_SETTINGS');
