import type { Redis } from 'ioredis';
import type { DeliveryMode } from './delivery-mode.js';

/** Hash: listener name -> JSON of what the last listeners process to start it announced. */
export const LISTENER_DIRECTORY = 'podium:listeners';
/** Hash: listener name -> JSON DurableSubscription. It outlives every process. */
export const DURABLE_SUBSCRIPTIONS = 'podium:durable-subscriptions';

export interface ListenerEntry {
  name: string;
  mode: DeliveryMode;
  pattern: string;
  /** Epoch milliseconds. */
  startedAt: number;
}

export interface DurableSubscription {
  listener: string;
  /** The PSUBSCRIBE pattern the listener uses; the box office matches orders against it. */
  pattern: string;
  /** Epoch milliseconds. */
  since: number;
}

export async function readListenerDirectory(redis: Redis): Promise<ListenerEntry[]> {
  return Object.values(await redis.hgetall(LISTENER_DIRECTORY)).map((json) => JSON.parse(json) as ListenerEntry);
}

export async function readDurableSubscriptions(redis: Redis): Promise<DurableSubscription[]> {
  return Object.values(await redis.hgetall(DURABLE_SUBSCRIPTIONS)).map((json) => JSON.parse(json) as DurableSubscription);
}

/** Records the listeners a process runs, and the durable subscriptions among them, in one step. */
export async function announceListeners(redis: Redis, entries: ListenerEntry[]): Promise<void> {
  const multi = redis.multi();
  for (const entry of entries) {
    multi.hset(LISTENER_DIRECTORY, entry.name, JSON.stringify(entry));
    if (entry.mode === 'durable') {
      const subscription: DurableSubscription = { listener: entry.name, pattern: entry.pattern, since: entry.startedAt };
      // HSETNX keeps the original `since` when a process restarts.
      multi.hsetnx(DURABLE_SUBSCRIPTIONS, entry.name, JSON.stringify(subscription));
    }
  }
  await multi.exec();
}

/** Removes a durable subscription: the box office stops enqueueing for it. Its queue stays. */
export async function removeDurableSubscription(redis: Redis, listener: string): Promise<boolean> {
  return (await redis.hdel(DURABLE_SUBSCRIPTIONS, listener)) === 1;
}
