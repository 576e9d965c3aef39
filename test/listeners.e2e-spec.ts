import { execFileSync } from 'node:child_process';
import { Injectable, Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { OnPurchase, type Effects } from '@podium/delivery';
import { LISTENER_MODULES } from '@podium/listeners';
import {
  ALERTS,
  eventChannel,
  eventHistogramKey,
  HISTOGRAM_ALL_EVENTS,
  hourOfDay,
  invoicesKey,
  listenerStatsKey,
  LOTTERY_WINNERS,
  OPENING_CEREMONY,
  orderKey,
  orderToHash,
  ORDERS_CHANNEL,
  SALES_SUMMARY,
  salesSetKey,
} from '@podium/orders';
import {
  announceOrder,
  CapturedLogger,
  PrivateRedis,
  startListenersApp,
  waitFor,
  waitForApplied,
  type RunningListenersApp,
} from '@podium/testing';

const ALL = ['sales-histogram', 'sales-summary', 'customer-invoices', 'opening-ceremony-lottery', 'event-alerts'];
const BASE = ['sales-histogram', 'sales-summary', 'customer-invoices'];

const hourCount = async (redis: Redis, key: string, hour: number): Promise<number> =>
  ((await redis.call('BITFIELD', key, 'GET', 'u32', `#${hour}`)) as number[])[0];

describe('listeners app (ephemeral delivery, real Redis)', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let listeners: RunningListenersApp;
  const logs = new CapturedLogger();

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
    listeners = await startListenersApp({ redisUrl: server.url, listeners: LISTENER_MODULES, logger: logs });
  });

  afterAll(async () => {
    await listeners?.close();
    await server?.destroy();
  });

  it("a raw PUBLISH of the seed's two announcements drives every listener", async () => {
    const ts = Date.UTC(2026, 6, 24, 14, 30) / 1000;
    const order = { orderId: 'RAW0001', who: 'rita', qty: 3, cost: '60', event: 'Womens Judo', ts };
    await redis.hset(orderKey(order.orderId), orderToHash(order));
    await redis.publish(ORDERS_CHANNEL, order.orderId);
    await redis.publish(eventChannel(order.event), order.orderId);

    await waitForApplied(redis, order.orderId, ALL.filter((l) => l !== 'opening-ceremony-lottery'));
    expect(await redis.hget(SALES_SUMMARY, 'Womens Judo:total_sales')).toBe('60');
    expect(await redis.hget(SALES_SUMMARY, 'Womens Judo:total_tickets_sold')).toBe('3');
    expect(await redis.smembers(salesSetKey('Womens Judo'))).toEqual(['RAW0001']);
    expect(await redis.smembers(invoicesKey('rita'))).toEqual(['RAW0001']);
    expect(hourOfDay(ts)).toBe(14);
    expect(await hourCount(redis, HISTOGRAM_ALL_EVENTS, 14)).toBe(3);
    expect(await hourCount(redis, eventHistogramKey('Womens Judo'), 14)).toBe(3);
    const [alert] = await redis.lrange(ALERTS, 0, 0);
    expect(JSON.parse(alert)).toMatchObject({ orderId: 'RAW0001', message: 'Purchase Womens Judo: #3 $60' });
    await waitFor(() => logs.matching('Purchase Womens Judo: #3 $60').length === 1, { what: 'the alert line' });
  });

  it('redis-cli, as another program would, records an order and PUBLISHes it: every listener applies it', async () => {
    const cli = (...args: string[]) => execFileSync('redis-cli', ['-p', String(server.port), ...args], { encoding: 'utf8' });
    cli('HSET', orderKey('CLI0001'), 'order_id', 'CLI0001', 'who', 'cli', 'qty', '2', 'cost', '40', 'event', 'Marathon', 'ts', '1785000000');
    cli('PUBLISH', ORDERS_CHANNEL, 'CLI0001');
    cli('PUBLISH', eventChannel('Marathon'), 'CLI0001');
    await waitForApplied(redis, 'CLI0001', [...BASE, 'event-alerts']);
    expect(await redis.smembers(invoicesKey('cli'))).toEqual(['CLI0001']);
    expect(cli('HGET', SALES_SUMMARY, 'Marathon:total_sales').trim()).toBe('40');
  });

  it('Opening Ceremony orders reach the lottery, every 5th wins, and never the alerter', async () => {
    const orders = [];
    for (let i = 0; i < 10; i++) orders.push(await announceOrder(redis, { event: OPENING_CEREMONY, who: `fan${i}` }));
    const judo = await announceOrder(redis, { event: 'Mens 4x400' });
    for (const o of orders) await waitForApplied(redis, o.orderId, [...BASE, 'opening-ceremony-lottery']);
    await waitForApplied(redis, judo.orderId, ['event-alerts']);

    expect(await redis.hget(SALES_SUMMARY, 'Opening Ceremony:total_orders')).toBe('10');
    expect(await redis.lrange(LOTTERY_WINNERS, 0, -1)).toEqual([orders[4].orderId, orders[9].orderId]);
    for (const o of orders) {
      expect(await redis.hget(`podium:applied:${o.orderId}`, 'event-alerts')).toBe('0'); // heard, skipped: not for it
      expect(logs.matching(`===> Winner!!!!! Opening Ceremony Lottery - Order Id: ${o.orderId}`)).toHaveLength(
        o === orders[4] || o === orders[9] ? 1 : 0,
      );
    }
    const alerts = (await redis.lrange(ALERTS, 0, -1)).map((a) => JSON.parse(a) as { event: string });
    expect(alerts.some((a) => a.event === OPENING_CEREMONY)).toBe(false);
    expect(alerts[0]).toMatchObject({ event: 'Mens 4x400' });
  });

  it('a duplicated announcement is applied once', async () => {
    const order = await announceOrder(redis, { event: 'Closing Ceremony', who: 'dupe', qty: 7, cost: '140' });
    await waitForApplied(redis, order.orderId, ['sales-summary']);
    // Announcements read together are handled as one; these come one after the other.
    for (const seen of [1, 2]) {
      await redis.publish(ORDERS_CHANNEL, order.orderId);
      await waitFor(async () => Number(await redis.hget(listenerStatsKey('sales-summary'), 'duplicates')) >= seen, {
        what: `duplicate ${seen} to be seen`,
      });
    }
    expect(await redis.hget(SALES_SUMMARY, 'Closing Ceremony:total_tickets_sold')).toBe('7');
    expect(await redis.hget(SALES_SUMMARY, 'Closing Ceremony:total_sales')).toBe('140');
  });

  it('a message that is not a known order id is logged, counted and skipped, and work goes on', async () => {
    await redis.publish(ORDERS_CHANNEL, 'NOSUCHORDER');
    await redis.publish(ORDERS_CHANNEL, '{"pattern":"x","data":"y"}');
    await redis.publish(ORDERS_CHANNEL, '');
    await waitFor(async () => Number(await redis.hget(listenerStatsKey('customer-invoices'), 'rejected')) === 3, {
      what: 'three rejections',
    });
    expect(logs.matching('rejected message: no order "NOSUCHORDER"').length).toBeGreaterThan(0);
    const after = await announceOrder(redis, { event: 'Womens Judo', who: 'after-bad' });
    await waitForApplied(redis, after.orderId, BASE);
  });

  it('a listener of your own subscribes to an exact channel even when the name holds glob characters', async () => {
    const seen: string[] = [];
    @Injectable()
    class FinalsListener {
      @OnPurchase({ listener: 'finals-only', channel: eventChannel('100m [Final]*') })
      onPurchase(order: { orderId: string }): Effects {
        seen.push(order.orderId);
        return { writes: [['SADD', 'test:finals', order.orderId]] };
      }
    }
    @Module({ providers: [FinalsListener] })
    class FinalsModule {}
    const finals = await startListenersApp({ redisUrl: server.url, listeners: [FinalsModule], logger: false });
    try {
      const lookalike = await announceOrder(redis, { event: '100m F' });
      const glob = await announceOrder(redis, { event: '100m [Final]* heats' });
      const exact = await announceOrder(redis, { event: '100m [Final]*' });
      await waitForApplied(redis, exact.orderId, ['finals-only', 'event-alerts']);
      await waitForApplied(redis, glob.orderId, ['event-alerts']);
      await waitForApplied(redis, lookalike.orderId, ['event-alerts']);
      expect(seen).toEqual([exact.orderId]);
      expect(await redis.smembers('test:finals')).toEqual([exact.orderId]);
    } finally {
      await finals.close();
    }
  });

  it('a second process running the same listeners does not double count', async () => {
    const twin = await startListenersApp({ redisUrl: server.url, listeners: LISTENER_MODULES, logger: false });
    try {
      const before = Number((await redis.hget(SALES_SUMMARY, 'Twins:total_tickets_sold')) ?? 0);
      const orders = [];
      for (let i = 0; i < 20; i++) orders.push(await announceOrder(redis, { event: 'Twins', qty: 2 }));
      for (const o of orders) await waitForApplied(redis, o.orderId, ALL.filter((l) => l !== 'opening-ceremony-lottery'));
      expect(Number(await redis.hget(SALES_SUMMARY, 'Twins:total_tickets_sold')) - before).toBe(40);
      expect(await redis.scard(salesSetKey('Twins'))).toBe(20);
      expect(await redis.llen(ALERTS)).toBeGreaterThanOrEqual(20);
    } finally {
      await twin.close();
    }
  });

  it('after its pub/sub connection is killed, the listeners subscribe again and go on', async () => {
    const before = listeners.transport.reconnectCount;
    await redis.client('KILL', 'TYPE', 'pubsub');
    await waitFor(() => listeners.transport.reconnectCount > before && listeners.transport.isSubscribed(), {
      what: 'the subscriber to reconnect',
    });
    await listeners.transport.whenSubscribed();
    const order = await announceOrder(redis, { event: 'Womens Judo', who: 'after-kill' });
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
      const order = await announceOrder(redis, { event: 'Womens Judo', who: 'solo' });
      await waitForApplied(redis, order.orderId, ['customer-invoices']);
      expect(await redis.hkeys(`podium:applied:${order.orderId}`)).toEqual(['customer-invoices']);
    } finally {
      await app.close();
    }
  });

  it('a LISTENERS entry that names no listener stops start-up with a clear message', async () => {
    await expect(
      startListenersApp({ redisUrl: server.url, listeners: LISTENER_MODULES, env: { LISTENERS: 'sales-summary,nope' }, logger: false }),
    ).rejects.toThrow('LISTENERS names unknown listener(s): nope; known: sales-histogram, sales-summary');
  });

  it("HISTOGRAM_ENCODING=seed-u8 writes the seed's layout, u8 at (hour + 1) * 8", async () => {
    const app = await startListenersApp({
      redisUrl: server.url,
      listeners: LISTENER_MODULES,
      env: { LISTENERS: 'sales-histogram', HISTOGRAM_ENCODING: 'seed-u8' },
      logger: false,
    });
    try {
      const ts = Date.UTC(2026, 6, 24, 9) / 1000;
      const order = await announceOrder(redis, { event: 'Seed', qty: 4, ts });
      await waitForApplied(redis, order.orderId, ['sales-histogram']);
      expect(await redis.call('BITFIELD', eventHistogramKey('Seed'), 'GET', 'u8', String((9 + 1) * 8))).toEqual([4]);
    } finally {
      await app.close();
    }
  });

  it('after a Redis restart, the listeners reconnect, subscribe again and process later orders', async () => {
    const app = await startListenersApp({ redisUrl: server.url, listeners: LISTENER_MODULES, logger: false });
    try {
      await server.restart();
      await waitFor(() => app.transport.reconnectCount > 0 && app.transport.isSubscribed(), {
        what: 'the listeners to reconnect',
        timeoutMs: 15_000,
      });
      await app.transport.whenSubscribed();
      const order = await announceOrder(redis, { event: 'Womens Judo', who: 'after-restart', qty: 2 });
      await waitForApplied(redis, order.orderId, BASE, 15_000);
      expect(await redis.smembers(invoicesKey('after-restart'))).toEqual([order.orderId]);
    } finally {
      await app.close();
    }
  });
});
