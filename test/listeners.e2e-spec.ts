import { execFileSync } from 'node:child_process';
import { Injectable, Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { type Effects, listenerStatsKey } from '@podium/core';
import {
  OnPurchase,
  ALERTS,
  eventChannel,
  invoicesKey,
  orderKey,
  ORDERS_CHANNEL,
  SALES_SUMMARY,
  salesSetKey,
  announceOrder,
} from '@podium/orders';
import {
  CapturedLogger,
  PrivateRedis,
  startListenersApp,
  waitFor,
  waitForApplied,
  type RunningListenersApp,
} from '@podium/testing';
import { LISTENER_MODULES, seedListenersFor } from '@podium/listeners';

/** The seed's listeners that take every order (each listener's own effects are checked by the spec in its folder). */
const BASE = ['sales-histogram', 'sales-summary', 'customer-invoices'];

describe('listeners app (ephemeral delivery, real Redis)', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let listeners: RunningListenersApp;
  const logs = new CapturedLogger();

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
    listeners = await startListenersApp({
      redisUrl: server.url,
      listeners: LISTENER_MODULES,
      logger: logs,
    });
  });

  afterAll(async () => {
    await listeners?.close();
    await server?.destroy();
  });

  it("redis-cli, as another program would, records an order and PUBLISHes it: the seed's listeners apply it", async () => {
    const cli = (...args: string[]) =>
      execFileSync('redis-cli', ['-p', String(server.port), ...args], {
        encoding: 'utf8',
      });
    cli(
      'HSET',
      orderKey('CLI0001'),
      'order_id',
      'CLI0001',
      'who',
      'cli',
      'qty',
      '2',
      'cost',
      '40',
      'event',
      'Marathon',
      'ts',
      '1785000000',
    );
    cli('PUBLISH', ORDERS_CHANNEL, 'CLI0001');
    cli('PUBLISH', eventChannel('Marathon'), 'CLI0001');
    await waitForApplied(redis, 'CLI0001', seedListenersFor('Marathon'));
    expect(await redis.smembers(invoicesKey('cli'))).toEqual(['CLI0001']);
    expect(cli('HGET', SALES_SUMMARY, 'Marathon:total_sales').trim()).toBe(
      '40',
    );
  });

  it('a duplicated announcement is applied once', async () => {
    const order = await announceOrder(redis, {
      event: 'Closing Ceremony',
      who: 'dupe',
      qty: 7,
      cost: '140',
    });
    await waitForApplied(redis, order.orderId, ['sales-summary']);
    // Announcements read together are handled as one; these come one after the other.
    for (const seen of [1, 2]) {
      await redis.publish(ORDERS_CHANNEL, order.orderId);
      await waitFor(
        async () =>
          Number(
            await redis.hget(listenerStatsKey('sales-summary'), 'duplicates'),
          ) >= seen,
        {
          what: `duplicate ${seen} to be seen`,
        },
      );
    }
    expect(
      await redis.hget(SALES_SUMMARY, 'Closing Ceremony:total_tickets_sold'),
    ).toBe('7');
    expect(
      await redis.hget(SALES_SUMMARY, 'Closing Ceremony:total_sales'),
    ).toBe('140');
  });

  it('a message that is not a known order id is logged, counted and skipped, and work goes on', async () => {
    await redis.publish(ORDERS_CHANNEL, 'NOSUCHORDER');
    await redis.publish(ORDERS_CHANNEL, '{"pattern":"x","data":"y"}');
    await redis.publish(ORDERS_CHANNEL, '');
    await waitFor(
      async () =>
        Number(
          await redis.hget(listenerStatsKey('customer-invoices'), 'rejected'),
        ) === 3,
      {
        what: 'three rejections',
      },
    );
    expect(
      logs.matching('rejected message: no order "NOSUCHORDER"').length,
    ).toBeGreaterThan(0);
    const after = await announceOrder(redis, {
      event: 'Womens Judo',
      who: 'after-bad',
    });
    await waitForApplied(redis, after.orderId, BASE);
  });

  it('a listener of your own subscribes to an exact channel even when the name holds glob characters', async () => {
    const seen: string[] = [];
    @Injectable()
    class FinalsListener {
      @OnPurchase({
        listener: 'finals-only',
        channel: eventChannel('100m [Final]*'),
      })
      onPurchase(order: { orderId: string }): Effects {
        seen.push(order.orderId);
        return { writes: [['SADD', 'test:finals', order.orderId]] };
      }
    }
    @Module({ providers: [FinalsListener] })
    class FinalsModule {}
    const finals = await startListenersApp({
      redisUrl: server.url,
      listeners: [FinalsModule],
      logger: false,
    });
    try {
      const lookalike = await announceOrder(redis, { event: '100m F' });
      const glob = await announceOrder(redis, { event: '100m [Final]* heats' });
      const exact = await announceOrder(redis, { event: '100m [Final]*' });
      await waitForApplied(redis, exact.orderId, [
        'finals-only',
        'event-alerts',
      ]);
      await waitForApplied(redis, glob.orderId, ['event-alerts']);
      await waitForApplied(redis, lookalike.orderId, ['event-alerts']);
      expect(seen).toEqual([exact.orderId]);
      expect(await redis.smembers('test:finals')).toEqual([exact.orderId]);
    } finally {
      await finals.close();
    }
  });

  it('a second process running the same listeners does not double count', async () => {
    const twin = await startListenersApp({
      redisUrl: server.url,
      listeners: LISTENER_MODULES,
      logger: false,
    });
    try {
      const before = Number(
        (await redis.hget(SALES_SUMMARY, 'Twins:total_tickets_sold')) ?? 0,
      );
      const orders = [];
      for (let i = 0; i < 20; i++)
        orders.push(await announceOrder(redis, { event: 'Twins', qty: 2 }));
      for (const o of orders)
        await waitForApplied(redis, o.orderId, seedListenersFor('Twins'));
      expect(
        Number(await redis.hget(SALES_SUMMARY, 'Twins:total_tickets_sold')) -
          before,
      ).toBe(40);
      expect(await redis.scard(salesSetKey('Twins'))).toBe(20);
      expect(await redis.llen(ALERTS)).toBeGreaterThanOrEqual(20);
    } finally {
      await twin.close();
    }
  });

  it('after its pub/sub connection is killed, the listeners subscribe again and go on', async () => {
    const before = listeners.transport.reconnectCount;
    await redis.client('KILL', 'TYPE', 'pubsub');
    await waitFor(
      () =>
        listeners.transport.reconnectCount > before &&
        listeners.transport.isSubscribed(),
      {
        what: 'the subscriber to reconnect',
      },
    );
    await listeners.transport.whenSubscribed();
    const order = await announceOrder(redis, {
      event: 'Womens Judo',
      who: 'after-kill',
    });
    await waitForApplied(redis, order.orderId, BASE);
  });
});

describe('listeners app configuration', () => {
  let server: PrivateRedis;
  let redis: Redis;

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
  });

  afterAll(async () => {
    await server?.destroy();
  });

  it('LISTENERS picks the listeners a process runs', async () => {
    const app = await startListenersApp({
      redisUrl: server.url,
      listeners: LISTENER_MODULES,
      env: { LISTENERS: 'customer-invoices' },
      logger: false,
    });
    try {
      expect(app.transport.patterns()).toEqual([ORDERS_CHANNEL]);
      const order = await announceOrder(redis, {
        event: 'Womens Judo',
        who: 'solo',
      });
      await waitForApplied(redis, order.orderId, ['customer-invoices']);
      expect(await redis.hkeys(`podium:applied:${order.orderId}`)).toEqual([
        'customer-invoices',
      ]);
    } finally {
      await app.close();
    }
  });

  it('a LISTENERS entry that names no listener stops start-up with a clear message', async () => {
    await expect(
      startListenersApp({
        redisUrl: server.url,
        listeners: LISTENER_MODULES,
        env: { LISTENERS: 'sales-summary,nope' },
        logger: false,
      }),
    ).rejects.toThrow(
      'delivery.only (LISTENERS) names unknown listener(s): nope; known: sales-histogram, sales-summary',
    );
  });

  it('after a Redis restart, the listeners reconnect, subscribe again and process later orders', async () => {
    const app = await startListenersApp({
      redisUrl: server.url,
      listeners: LISTENER_MODULES,
      logger: false,
    });
    try {
      await server.restart();
      await waitFor(
        () => app.transport.reconnectCount > 0 && app.transport.isSubscribed(),
        {
          what: 'the listeners to reconnect',
          timeoutMs: 15_000,
        },
      );
      await app.transport.whenSubscribed();
      const order = await announceOrder(redis, {
        event: 'Womens Judo',
        who: 'after-restart',
        qty: 2,
      });
      await waitForApplied(redis, order.orderId, BASE, 15_000);
      expect(await redis.smembers(invoicesKey('after-restart'))).toEqual([
        order.orderId,
      ]);
    } finally {
      await app.close();
    }
  });
});
