import type { RedisClient } from '@podium/redis';
import type { DeliveryMode } from '../config/index.js';
import {
  DURABLE_SUBSCRIPTIONS,
  LISTENER_DIRECTORY,
} from '../keyspace/index.js';

export interface ListenerEntry {
  name: string;
  mode: DeliveryMode;
  /** The group it runs in: one unit of work (and, with a queue, one job) per message per group. */
  group: string;
  pattern: string;
  /** The BullMQ queue its messages wait in (the group's), or null when it has none (ephemeral). */
  queue: string | null;
  /** Epoch milliseconds. */
  startedAt: number;
}

/** A durable group: the publisher enqueues one job per message that matches one of its patterns. */
export interface DurableSubscription {
  group: string;
  listeners: string[];
  /** The PSUBSCRIBE patterns of its listeners; the publisher matches messages against them. */
  patterns: string[];
  /** Epoch milliseconds of the first registration. */
  since: number;
}

export async function readListenerDirectory(
  redis: RedisClient,
): Promise<ListenerEntry[]> {
  return Object.values(await redis.hgetall(LISTENER_DIRECTORY)).map(
    (json) => JSON.parse(json) as ListenerEntry,
  );
}

export async function readDurableSubscriptions(
  redis: RedisClient,
): Promise<DurableSubscription[]> {
  return Object.values(await redis.hgetall(DURABLE_SUBSCRIPTIONS)).map(
    (json) => JSON.parse(json) as DurableSubscription,
  );
}

/** Records the listeners a process runs (a publishing app's listeners API reads them). */
export async function recordListeners(
  redis: RedisClient,
  entries: ListenerEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  await redis.hset(
    LISTENER_DIRECTORY,
    Object.fromEntries(entries.map((e) => [e.name, JSON.stringify(e)])),
  );
}

/**
 * Registers (or updates) a durable group's subscription, keeping the date it was first
 * registered. From then on the publisher enqueues every matching message for it.
 */
export async function registerDurableSubscription(
  redis: RedisClient,
  subscription: Omit<DurableSubscription, 'since'>,
): Promise<void> {
  const known = await redis.hget(DURABLE_SUBSCRIPTIONS, subscription.group);
  const since = known
    ? (JSON.parse(known) as DurableSubscription).since
    : Date.now();
  await redis.hset(
    DURABLE_SUBSCRIPTIONS,
    subscription.group,
    JSON.stringify({ ...subscription, since }),
  );
}

/** Removes a durable group's subscription: the publisher stops enqueueing for it. Its queue stays. */
export async function removeDurableSubscription(
  redis: RedisClient,
  group: string,
): Promise<boolean> {
  return (await redis.hdel(DURABLE_SUBSCRIPTIONS, group)) === 1;
}
