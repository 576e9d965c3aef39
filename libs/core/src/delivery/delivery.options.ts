import type { RedisTarget } from '@podium/redis';
import type { GroupingOptions } from './listener-group.js';

export const DELIVERY_OPTIONS = Symbol('DELIVERY_OPTIONS');

export interface QueueSettings {
  concurrency: number;
  attempts: number;
  backoffMs: number;
  lockMs: number;
  stalledCheckMs: number;
}

export interface DeliveryOptions extends GroupingOptions {
  redisTarget: RedisTarget;
  queue: QueueSettings;
  appliedMarkerTtlSeconds: number;
  /** Announcements one process works on at once before it stops reading its subscriber. */
  maxInFlight: number;
  /** REDIS_WAIT_REPLICAS and REDIS_WAIT_TIMEOUT_MS: a job completes once replicas have its effects. */
  waitReplicas?: { replicas: number; timeoutMs: number };
}
