import type { RedisClient } from '@podium/redis';
import { listenerStatsKey, type Keyspace } from '../keyspace/index.js';
import { readRecordPlaces } from './record-places.js';

/** A listener's counters across processes (hash podium:stats:<listener>). */
export interface ListenerCounts {
  announced: number;
  applied: number;
  skipped: number;
  duplicates: number;
  rejected: number;
  failed: number;
  lost: number;
}

const FIELDS = [
  'announced',
  'applied',
  'skipped',
  'duplicates',
  'rejected',
  'failed',
  'lost',
] as const;

/**
 * A listener's counters: on one Redis its hash; on a cluster the sum of its hashes in every
 * place they are counted in (the effects' parts, the events' slots: see Keyspace).
 */
export async function readListenerCounts(
  redis: RedisClient,
  keys: Keyspace,
  listener: string,
): Promise<ListenerCounts> {
  const places = new Set([
    ...keys.effectsPlaces(),
    ...(await readRecordPlaces(redis, keys)),
  ]);
  const hashes = await Promise.all(
    [...places].map((place) =>
      redis.hgetall(keys.key(place, listenerStatsKey(listener))),
    ),
  );
  return Object.fromEntries(
    FIELDS.map((field) => [
      field,
      hashes.reduce((sum, stats) => sum + Number(stats[field] ?? 0), 0),
    ]),
  ) as unknown as ListenerCounts;
}

/**
 * Messages the publisher announced to a listener that are not accounted for: neither
 * applied, skipped, failed nor counted lost (waiting in a queue, in flight, or missed).
 * Rejections are left out: the publisher announces only readable messages. Messages that
 * other programs announce are not counted as announced, so with them this is a lower bound.
 */
export function unaccountedOrders(c: ListenerCounts): number {
  return Math.max(0, c.announced - c.applied - c.skipped - c.failed - c.lost);
}
