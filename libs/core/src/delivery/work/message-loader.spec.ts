import type { Redis } from 'ioredis';
import {
  MalformedOrderError,
  orderKey,
  orderToHash,
  newOrder,
  ORDER,
} from '@podium/orders';
import { PrivateRedis } from '@podium/testing';
import { createRedis, redisTargetFromUrl } from '@podium/redis';
import { UnknownMessageError } from '../../messages/index.js';
import { MessageLoader } from './message-loader.js';

/** The server's socket reads and HGETALL calls so far, in one INFO (itself one read). */
async function serverCounts(
  redis: Redis,
): Promise<{ reads: number; hgetall: number }> {
  const info = (await redis.call('INFO', 'stats', 'commandstats')) as string;
  const field = (pattern: RegExp) => Number(pattern.exec(info)?.[1] ?? 0);
  return {
    reads: field(/^total_reads_processed:(\d+)/m),
    hgetall: field(/^cmdstat_hgetall:calls=(\d+)/m),
  };
}

describe('MessageLoader', () => {
  let server: PrivateRedis;
  /** The test's own reads and writes. */
  let redis: Redis;
  /** The loader's: the shared auto-pipelining connection, as in the app. */
  let shared: Redis;
  let loader: MessageLoader;

  const recorded = async (fields: Parameters<typeof newOrder>[0]) => {
    const order = newOrder(fields);
    await redis.hset(orderKey(order.orderId), orderToHash(order));
    return order;
  };

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
    shared = createRedis(
      redisTargetFromUrl(server.url),
      'order-loader-spec',
    ) as Redis;
    await shared.ping();
  });
  afterAll(async () => {
    await shared.quit();
    await server.destroy();
  });
  beforeEach(async () => {
    await redis.flushall();
    loader = new MessageLoader(shared);
  });

  it('reads the orders asked for in one tick together: one HGETALL per order, all in one write', async () => {
    const orders = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        recorded({ event: 'Womens Judo', who: `fan-${i}` }),
      ),
    );
    const ids = orders.map((o) => o.orderId);
    const before = await serverCounts(redis);
    // Two callers in the same tick, asking for two overlapping ranges.
    const [first, second] = await Promise.all([
      loader.loadMany(ORDER, ids.slice(0, 6)),
      loader.loadMany(ORDER, ids.slice(4)),
    ]);
    const after = await serverCounts(redis);
    expect(first).toEqual(orders.slice(0, 6));
    expect(second).toEqual(orders.slice(4));
    expect(after.hgetall - before.hgetall).toBe(10);
    // This INFO, and the ten reads in one write.
    expect(after.reads - before.reads).toBe(2);
  });

  it('keeps what it read: a second load gives the order as first read, without asking Redis', async () => {
    const order = await recorded({ event: 'Womens Judo' });
    await loader.loadMany(ORDER, [order.orderId]);
    await redis.hset(orderKey(order.orderId), 'who', 'someone else');
    const before = await serverCounts(redis);
    expect(await loader.loadMany(ORDER, [order.orderId])).toEqual([order]);
    expect((await serverCounts(redis)).hgetall).toBe(before.hgetall);
  });

  it('fresh: reads the order from Redis again, and keeps that', async () => {
    const order = await recorded({ event: 'Womens Judo' });
    await loader.loadMany(ORDER, [order.orderId]);
    await redis.hset(orderKey(order.orderId), 'who', 'fixed');
    const fixed = { ...order, who: 'fixed' };
    expect(await loader.loadMany(ORDER, [order.orderId], true)).toEqual([
      fixed,
    ]);
    expect(await loader.loadMany(ORDER, [order.orderId])).toEqual([fixed]);
  });

  it('gives each order that cannot be had its reason, and does not keep it: the next load reads again', async () => {
    const good = await recorded({ event: 'Womens Judo' });
    const unknown = newOrder({ event: 'Womens Judo' });
    const malformed = await recorded({ event: 'Womens Judo' });
    await redis.hset(orderKey(malformed.orderId), 'qty', 'abc');
    const wrongType = newOrder({ event: 'Womens Judo' });
    await redis.set(orderKey(wrongType.orderId), 'not a hash');

    const ids = [good, unknown, malformed, wrongType].map((o) => o.orderId);
    const [read, missing, bad, refused] = await loader.loadMany(ORDER, ids);
    expect(read).toEqual(good);
    expect(missing).toBeInstanceOf(UnknownMessageError);
    expect((missing as Error).message).toBe(
      `no order "${unknown.orderId}" (key ${orderKey(unknown.orderId)} does not exist)`,
    );
    expect(bad).toBeInstanceOf(MalformedOrderError);
    expect((bad as Error).message).toBe(
      `order ${malformed.orderId}: field "qty" is not an integer from 1 to 2147483647`,
    );
    expect((refused as Error).message).toMatch(/^WRONGTYPE/);

    // Recorded, fixed, rewritten: the same loader, without `fresh`, now finds all three.
    await redis.hset(orderKey(unknown.orderId), orderToHash(unknown));
    await redis.hset(orderKey(malformed.orderId), 'qty', '1');
    await redis.del(orderKey(wrongType.orderId));
    await redis.hset(orderKey(wrongType.orderId), orderToHash(wrongType));
    expect(await loader.loadMany(ORDER, ids)).toEqual([
      good,
      unknown,
      malformed,
      wrongType,
    ]);
  });
});
