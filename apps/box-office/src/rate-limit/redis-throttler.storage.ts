import type { ThrottlerStorage } from '@nestjs/throttler';
import {
  LuaScript,
  redisUnavailableReason,
  type FailoverSignal,
  type RedisClient,
  type RedisUnavailableReason,
} from '@podium/redis';

/** What @nestjs/throttler's guard gets back for a request (its ThrottlerStorageRecord). */
type ThrottlerStorageRecord = Awaited<
  ReturnType<ThrottlerStorage['increment']>
>;

// Counts a client's request on a route in one step: hits, window, block (see the file).
const COUNT_REQUEST = LuaScript.fromFile(
  new URL('./count-request.lua', import.meta.url),
);

/**
 * The rate limit could not be counted because Redis cannot serve: the request is refused
 * (503, see RedisUnavailableFilter) before it did anything, rather than let through
 * uncounted.
 */
export class RateLimitUnavailableError extends Error {
  constructor(
    readonly reason: RedisUnavailableReason,
    cause: Error,
  ) {
    super(cause.message, { cause });
    this.name = 'RateLimitUnavailableError';
  }
}

/**
 * @nestjs/throttler's storage in Redis, on the box office's own connection: every box office
 * on one Redis (one server, Sentinel or a cluster) counts a client's requests once. The key
 * is the guard's (RateLimitModule names it with rateLimitKey); the throttler's name is not
 * part of it, the box office has one throttler.
 *
 * While a failover of the primary is under way (FailoverMonitor, behind Sentinel) nothing is
 * counted: the primary being demoted would take the count and lose it, or refuse it
 * (READONLY) once demoted. The request goes on uncounted to its route, which refuses it
 * then as it did without a rate limit: a purchase with the failover's 503 (Retry-After 1,
 * RecordReplication), before it writes anything.
 */
export class RedisThrottlerStorage implements ThrottlerStorage {
  constructor(
    private readonly redis: RedisClient,
    private readonly failover?: FailoverSignal,
  ) {}

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
  ): Promise<ThrottlerStorageRecord> {
    if (this.failover?.failingOver)
      return {
        totalHits: 0,
        timeToExpire: Math.ceil(ttl / 1000),
        isBlocked: false,
        timeToBlockExpire: 0,
      };
    let reply: [number, number, number, number];
    try {
      reply = await COUNT_REQUEST.run(
        this.redis,
        [key],
        [ttl, limit, blockDuration],
      );
    } catch (err) {
      const reason = redisUnavailableReason(err);
      if (reason) throw new RateLimitUnavailableError(reason, err as Error);
      throw err;
    }
    const [totalHits, expiresInMs, blocked, blockEndsInMs] = reply;
    // The guard speaks seconds: Retry-After and X-RateLimit-Reset.
    return {
      totalHits,
      timeToExpire: Math.ceil(expiresInMs / 1000),
      isBlocked: blocked === 1,
      timeToBlockExpire: Math.ceil(blockEndsInMs / 1000),
    };
  }
}
