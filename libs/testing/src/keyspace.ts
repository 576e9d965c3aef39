import { RATE_LIMIT_PREFIX } from '@podium/core';
import type { RedisClient } from '@podium/redis';

/**
 * Every key of the database with its type and value, in key order: compare two snapshots
 * to prove that a refused request wrote nothing (not only that it created no key). With
 * `rateLimitCounts: false`, without the clients' rate-limit counts, which every request to
 * a limited route writes, a refused one too (the count comes before the checks).
 */
export async function snapshotKeyspace(
  redis: RedisClient,
  { rateLimitCounts = true }: { rateLimitCounts?: boolean } = {},
): Promise<Record<string, unknown>> {
  const keys = (await redis.keys('*'))
    .filter((key) => rateLimitCounts || !key.startsWith(RATE_LIMIT_PREFIX))
    .sort();
  const snapshot: Record<string, unknown> = {};
  for (const key of keys) {
    const type = await redis.type(key);
    switch (type) {
      case 'string':
        snapshot[key] = await redis.get(key);
        break;
      case 'hash':
        snapshot[key] = await redis.hgetall(key);
        break;
      case 'list':
        snapshot[key] = await redis.lrange(key, 0, -1);
        break;
      case 'set':
        snapshot[key] = (await redis.smembers(key)).sort();
        break;
      case 'zset':
        snapshot[key] = await redis.zrange(key, 0, -1, 'WITHSCORES');
        break;
      default:
        snapshot[key] =
          `${type}, ${String(await redis.call('MEMORY', 'USAGE', key))} bytes`;
    }
  }
  return snapshot;
}
