import {
  Keyspace,
  appliedKey,
  failedMessagesKey,
  listenerStatsKey,
} from '../../index.js';
import {
  orderKey,
  orderToHash,
  ORDERS_CHANNEL,
  type Order,
  newOrder,
  ORDER,
} from '@podium/orders';
import { CapturedLogger, PrivateRedis, waitFor } from '@podium/testing';
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { DeliveryMetrics } from '../delivery-metrics.js';
import type { DeliveryOptions } from '../delivery.options.js';
import { EffectApplier } from '../effects/effect-applier.js';
import type { Effects } from '../effects/effects.js';
import type { ListenerGroup, RunningListener } from '../listener-group.js';
import { ListenerStats } from '../listener-stats.js';
import { MessageLoader } from '../work/message-loader.js';
import { MessageWork } from '../work/message-work.js';
import {
  EPHEMERAL_REDIS_TRIES,
  EphemeralDelivery,
} from './ephemeral-delivery.js';

/** A member of the group under test; `calls` counts its handler's runs per order. */
function member(
  name: string,
  handle: (order: Order, call: number) => ReturnType<RunningListener['handle']>,
): RunningListener & { calls: Map<string, number> } {
  const calls = new Map<string, number>();
  return {
    name,
    pattern: ORDERS_CHANNEL,
    oneSlot: false,
    type: ORDER,
    mode: 'ephemeral',
    group: 'ephemeral',
    calls,
    handle: (order: Order) => {
      const call = (calls.get(order.orderId) ?? 0) + 1;
      calls.set(order.orderId, call);
      return handle(order, call);
    },
  };
}

const adding =
  (name: string) =>
  (order: Order): Effects => ({
    writes: [['SADD', `test:${name}`, order.orderId]],
  });

describe('EphemeralDelivery', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let logs: CapturedLogger;
  let delivery: EphemeralDelivery;
  let seen: string[];

  const recorded = async (fields: Partial<Order> = {}): Promise<Order> => {
    const order = newOrder({ event: 'Womens Judo', ...fields });
    await redis.hset(orderKey(order.orderId), orderToHash(order));
    return order;
  };
  const groupOf = (...listeners: RunningListener[]): ListenerGroup => ({
    name: 'ephemeral',
    type: ORDER,
    mode: 'ephemeral',
    listeners,
  });
  /** A listener's failed set: order id -> its entry. */
  const failedSet = async (listener: string) =>
    Object.fromEntries(
      Object.entries(await redis.hgetall(failedMessagesKey(listener))).map(
        ([id, json]) => [id, JSON.parse(json) as Record<string, string>],
      ),
    );
  const counter = (listener: string, field: string) =>
    redis.hget(listenerStatsKey(listener), field);

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
    logs = new CapturedLogger();
    Logger.overrideLogger(logs);
  });
  afterAll(() => server.destroy());
  beforeEach(async () => {
    await redis.flushall();
    logs.lines.length = 0;
    const options = { appliedMarkerTtlSeconds: 3600 } as DeliveryOptions;
    const stats = new ListenerStats(redis, new DeliveryMetrics());
    seen = [];
    stats.observe((listener, id, outcome) =>
      seen.push(`${listener} ${id} ${outcome}`),
    );
    delivery = new EphemeralDelivery(
      new MessageWork(
        new MessageLoader(redis),
        new EffectApplier(redis, Keyspace.singleRedis, options),
      ),
      stats,
    );
  });

  it('applies a batch for the members that heard each order, and resolves once it is applied', async () => {
    const all = member('all', adding('all'));
    const judo = member('judo', adding('judo'));
    const [a, b] = [await recorded(), await recorded()];
    await delivery.take(groupOf(all, judo), [
      { id: a.orderId, listeners: [all, judo] },
      { id: b.orderId, listeners: [all] },
    ]);
    expect((await redis.smembers('test:all')).sort()).toEqual(
      [a.orderId, b.orderId].sort(),
    );
    expect(await redis.smembers('test:judo')).toEqual([a.orderId]);
    expect(await redis.hgetall(appliedKey(b.orderId))).toEqual({ all: '1' });
    expect(await counter('all', 'applied')).toBe('2');
    expect(seen).toEqual([
      `all ${a.orderId} applied`,
      `judo ${a.orderId} applied`,
      `all ${b.orderId} applied`,
    ]);
    expect(delivery.queueOf()).toBeNull();
  });

  it('a handler that throws fails at once and for good: logged, counted failed, kept in the failed set', async () => {
    const steady = member('steady', adding('steady'));
    const fragile = member('fragile', () => {
      throw new Error('no rate for this currency');
    });
    const order = await recorded();
    await delivery.take(groupOf(steady, fragile), [
      { id: order.orderId, listeners: [steady, fragile] },
    ]);
    expect(fragile.calls.get(order.orderId)).toBe(1);
    expect(await failedSet('fragile')).toEqual({
      [order.orderId]: {
        error: 'no rate for this currency',
        failedAt: expect.any(String),
        counted: 'failed',
      },
    });
    expect(await failedSet('steady')).toEqual({});
    await waitFor(async () => (await counter('fragile', 'failed')) === '1', {
      what: "fragile's failure counted",
    });
    expect(
      logs.matching(
        `[fragile] order ${order.orderId} failed: no rate for this currency`,
      ),
    ).toHaveLength(1);
    expect(seen).toEqual([
      `steady ${order.orderId} applied`,
      `fragile ${order.orderId} failed`,
    ]);
  });

  it('effects Redis refuses are tried again, on the order read afresh, for that member alone, and applied once Redis takes them', async () => {
    await redis.hset('poisoned', 'field', 'not a number');
    const steady = member('steady', adding('steady'));
    const customers: string[] = [];
    const counting = member('counting', async (order, call) => {
      customers.push(order.who);
      if (call === 1)
        await redis.hset(orderKey(order.orderId), 'who', 'read again');
      else await redis.hset('poisoned', 'field', '0'); // the cause, fixed
      return { writes: [['HINCRBY', 'poisoned', 'field', 1]] };
    });
    const order = await recorded();
    await delivery.take(groupOf(steady, counting), [
      { id: order.orderId, listeners: [steady, counting] },
    ]);
    expect(customers).toEqual(['tester', 'read again']);
    expect(steady.calls.get(order.orderId)).toBe(1);
    expect(await redis.hget('poisoned', 'field')).toBe('1');
    expect(await failedSet('counting')).toEqual({});
    expect(seen).toEqual([
      `steady ${order.orderId} applied`,
      `counting ${order.orderId} applied`,
    ]);
  });

  it(`effects still refused after ${EPHEMERAL_REDIS_TRIES} tries, and orders Redis does not give, fail and are kept in the failed set`, async () => {
    await redis.hset('poisoned', 'field', 'not a number');
    const refused = member('refused', () => ({
      writes: [['HINCRBY', 'poisoned', 'field', 1]],
    }));
    const other = member('other', adding('other'));
    const order = await recorded();
    const unreadable = newOrder({ event: 'Womens Judo' }).orderId;
    await redis.set(orderKey(unreadable), 'not a hash');

    await delivery.take(groupOf(refused, other), [
      { id: order.orderId, listeners: [refused] },
      { id: unreadable, listeners: [refused, other] },
    ]);
    expect(refused.calls.get(order.orderId)).toBe(EPHEMERAL_REDIS_TRIES);
    const failed = await failedSet('refused');
    expect(Object.keys(failed).sort()).toEqual(
      [order.orderId, unreadable].sort(),
    );
    expect(failed[order.orderId].error).toMatch(/not an integer/);
    expect(failed[unreadable].error).toMatch(/^WRONGTYPE/);
    expect(Object.keys(await failedSet('other'))).toEqual([unreadable]);
    await waitFor(
      async () =>
        (await counter('refused', 'failed')) === '2' &&
        (await counter('other', 'failed')) === '1',
      { what: 'the failures counted' },
    );
  });

  it('a poison order is rejected and kept in the failed set as rejected; what names no order is only counted rejected', async () => {
    const steady = member('steady', adding('steady'));
    const other = member('other', adding('other'));
    const poison = await recorded();
    await redis.hset(orderKey(poison.orderId), 'qty', '0');
    const unknown = newOrder({ event: 'Womens Judo' }).orderId;

    await delivery.take(groupOf(steady, other), [
      { id: poison.orderId, listeners: [steady, other] },
      { id: unknown, listeners: [steady] },
      { id: 'not an id', listeners: [steady] },
    ]);
    for (const listener of ['steady', 'other'])
      expect(await failedSet(listener)).toEqual({
        [poison.orderId]: {
          error: `order ${poison.orderId}: field "qty" is not an integer from 1 to 2147483647`,
          failedAt: expect.any(String),
          counted: 'rejected',
        },
      });
    await waitFor(
      async () =>
        (await counter('steady', 'rejected')) === '3' &&
        (await counter('other', 'rejected')) === '1',
      { what: 'the rejections counted' },
    );
    expect(await counter('steady', 'failed')).toBeNull();
    expect(steady.calls.size).toBe(0);
  });

  it("applies a group's batches in the order they were taken, whatever their handlers' pace", async () => {
    let open = (): void => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const drawn: string[] = [];
    const lottery = member('lottery', async (order) => {
      if (order.who === 'first') await gate;
      drawn.push(order.who);
      return { writes: [['RPUSH', 'test:entries', order.who]] };
    });
    const group = groupOf(lottery);
    const [first, second] = [
      await recorded({ who: 'first' }),
      await recorded({ who: 'second' }),
    ];
    const taking = [
      delivery.take(group, [{ id: first.orderId, listeners: [lottery] }]),
      delivery.take(group, [{ id: second.orderId, listeners: [lottery] }]),
    ];
    await waitFor(() => drawn.includes('second'), {
      what: "the second batch's handler to run",
    });
    open();
    await Promise.all(taking);
    expect(await redis.lrange('test:entries', 0, -1)).toEqual([
      'first',
      'second',
    ]);
  });
});
