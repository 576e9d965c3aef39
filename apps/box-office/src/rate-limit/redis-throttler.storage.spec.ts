import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import { PrivateRedis, waitFor } from '@podium/testing';
import {
  RateLimitUnavailableError,
  RedisThrottlerStorage,
} from './redis-throttler.storage.js';

/** The box office's window and block, in ms as the guard passes them. */
const MINUTE = 60_000;

describe('RedisThrottlerStorage: @nestjs/throttler counts in Redis', () => {
  let server: PrivateRedis;
  let redis: Redis;
  /** Called as the guard calls it, through the throttler's interface. */
  let storage: ThrottlerStorage;
  let n = 0;
  /** A key of its own per test. */
  const newKey = () => `podium:rate-limit:test:client-${++n}`;

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
    storage = new RedisThrottlerStorage(redis);
  });
  afterAll(() => server?.destroy());

  it('counts up to the limit, with the seconds left in the window', async () => {
    const key = newKey();
    for (let hits = 1; hits <= 3; hits++)
      expect(
        await storage.increment(key, MINUTE, 3, MINUTE, 'default'),
      ).toEqual({
        totalHits: hits,
        timeToExpire: 60,
        isBlocked: false,
        timeToBlockExpire: 0,
      });
    const pttl = await redis.pttl(key);
    expect(pttl).toBeGreaterThan(MINUTE - 5_000);
    expect(pttl).toBeLessThanOrEqual(MINUTE);
  });

  it('the request past the limit blocks the client for the block duration; blocked requests are not counted', async () => {
    const key = newKey();
    for (let i = 0; i < 2; i++)
      await storage.increment(key, MINUTE, 2, 2 * MINUTE, 'default');
    expect(
      await storage.increment(key, MINUTE, 2, 2 * MINUTE, 'default'),
    ).toEqual({
      totalHits: 3,
      timeToExpire: 120,
      isBlocked: true,
      timeToBlockExpire: 120,
    });
    const blocked = await storage.increment(
      key,
      MINUTE,
      2,
      2 * MINUTE,
      'default',
    );
    expect(blocked).toMatchObject({ totalHits: 3, isBlocked: true });
    expect(blocked.timeToBlockExpire).toBeGreaterThan(100);
    expect(await redis.hgetall(key)).toEqual({ hits: '3', blocked: '1' });
  });

  it('once the block ends, a new window starts', async () => {
    const key = newKey();
    for (let i = 0; i < 2; i++)
      await storage.increment(key, MINUTE, 1, 200, 'default');
    await waitFor(async () => (await redis.exists(key)) === 0, {
      what: 'the block to end',
    });
    expect(await storage.increment(key, MINUTE, 1, 200, 'default')).toEqual({
      totalHits: 1,
      timeToExpire: 60,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
  });

  it('once the window ends, the count starts again', async () => {
    const key = newKey();
    for (let i = 0; i < 2; i++)
      await storage.increment(key, 200, 2, 200, 'default');
    await waitFor(async () => (await redis.exists(key)) === 0, {
      what: 'the window to end',
    });
    expect(await storage.increment(key, 200, 2, 200, 'default')).toMatchObject({
      totalHits: 1,
      isBlocked: false,
    });
  });

  it('without a block duration, a client past the limit is refused until its window ends', async () => {
    const key = newKey();
    await storage.increment(key, MINUTE, 1, 0, 'default');
    const refused = await storage.increment(key, MINUTE, 1, 0, 'default');
    expect(refused).toMatchObject({ totalHits: 2, isBlocked: true });
    expect(refused.timeToBlockExpire).toBe(refused.timeToExpire);
    expect(await redis.hget(key, 'blocked')).toBeNull();
  });

  it('two storages on one Redis (two box offices) share one count', async () => {
    const key = newKey();
    const other: ThrottlerStorage = new RedisThrottlerStorage(server.client());
    const counts = [];
    for (let i = 0; i < 4; i++)
      counts.push(
        (
          await [storage, other][i % 2].increment(
            key,
            MINUTE,
            3,
            MINUTE,
            'default',
          )
        ).totalHits,
      );
    expect(counts).toEqual([1, 2, 3, 4]);
    expect(
      await other.increment(key, MINUTE, 3, MINUTE, 'default'),
    ).toMatchObject({
      isBlocked: true,
    });
  });

  it('a key left without an expiry (written by hand) starts a window, so no count lives for ever', async () => {
    const key = newKey();
    await redis.hset(key, 'hits', '5');
    await storage.increment(key, MINUTE, 10, MINUTE, 'default');
    expect(await redis.pttl(key)).toBeGreaterThan(0);
  });

  it('Redis unavailable: a RateLimitUnavailableError with the reason, for the 503', async () => {
    const key = newKey();
    const failing: ThrottlerStorage = new RedisThrottlerStorage({
      evalsha: () => Promise.reject(new Error('Connection is closed.')),
      script: () => Promise.resolve('sha'),
    } as unknown as Redis);
    const err: unknown = await failing
      .increment(key, MINUTE, 1, MINUTE, 'default')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitUnavailableError);
    expect(err).toMatchObject({ reason: 'no-answer' });
  });

  it('during a failover nothing is counted: the request goes on to its route, which refuses what it would write', async () => {
    const key = newKey();
    const failover = { failingOver: true, epoch: 1 };
    const during: ThrottlerStorage = new RedisThrottlerStorage(redis, failover);
    for (let i = 0; i < 3; i++)
      expect(await during.increment(key, MINUTE, 1, MINUTE, 'default')).toEqual(
        {
          totalHits: 0,
          timeToExpire: 60,
          isBlocked: false,
          timeToBlockExpire: 0,
        },
      );
    expect(await redis.exists(key)).toBe(0);
    failover.failingOver = false;
    expect(
      await during.increment(key, MINUTE, 1, MINUTE, 'default'),
    ).toMatchObject({ totalHits: 1 });
  });
});
