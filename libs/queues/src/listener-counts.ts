import type { Redis } from 'ioredis';
import { listenerStatsKey } from '@podium/orders';

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

export async function readListenerCounts(
  redis: Redis,
  listener: string,
): Promise<ListenerCounts> {
  const stats = await redis.hgetall(listenerStatsKey(listener));
  return Object.fromEntries(
    FIELDS.map((field) => [field, Number(stats[field] ?? 0)]),
  ) as unknown as ListenerCounts;
}

/**
 * Orders the box office announced to a listener that are not accounted for: neither
 * applied, skipped, failed nor counted lost (waiting in a queue, in flight, or missed).
 * Rejections are left out: the box office announces only readable orders. Orders that
 * other programs announce are not counted as announced, so with them this is a lower bound.
 */
export function unaccountedOrders(c: ListenerCounts): number {
  return Math.max(0, c.announced - c.applied - c.skipped - c.failed - c.lost);
}
