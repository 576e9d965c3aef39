import type { Redis } from 'ioredis';
import request from 'supertest';
import {
  AnnouncementDispatcher,
  GroupQueues,
  jobMessageIds,
  DELIVERY_MODES,
  validatePodiumEnv,
  listenerStatsKey,
} from '@podium/core';
import {
  addAnnouncement,
  eventChannel,
  newOrderId,
  orderKey,
  orderToHash,
  ORDERS_CHANNEL,
  announceOrder,
  newOrder,
  standaloneOrderPublisher,
} from '@podium/orders';
import {
  CapturedLogger,
  PrivateRedis,
  startListenersApp,
  waitFor,
  waitForApplied,
  type RunningListenersApp,
} from '@podium/testing';
import { startBoxOffice } from './support/box-office.js';
import {
  closeGate,
  gate,
  GatedListenerModule,
  GroupListenersModule,
  handlerCalls,
} from './support/group-listeners.js';

const FAST_RETRIES = { QUEUE_ATTEMPTS: '3', QUEUE_BACKOFF_MS: '10' };

/** Calls of one command since the server started (INFO commandstats). */
async function commandCalls(redis: Redis, command: string): Promise<number> {
  const info = await redis.info('commandstats');
  return Number(
    new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0,
  );
}

describe.each(DELIVERY_MODES)(
  '%s delivery: one unit of work per order for a group of listeners',
  (mode) => {
    let server: PrivateRedis;
    let redis: Redis;

    beforeAll(async () => {
      server = await PrivateRedis.start();
      redis = server.client();
    });

    afterAll(async () => {
      await server?.destroy();
    });

    it('applies every order once for every member; a member that throws is retried alone (queued, durable) or counted failed (ephemeral)', async () => {
      const app = await startListenersApp({
        redisUrl: server.url,
        listeners: [GroupListenersModule],
        env: { DELIVERY: mode, ...FAST_RETRIES },
        logger: false,
      });
      try {
        const orders = [];
        for (let i = 0; i < 10; i++)
          orders.push(
            await announceOrder(redis, { event: 'Womens Judo', who: 'fan' }),
          );
        const flaky = await announceOrder(redis, {
          event: 'Womens Judo',
          who: 'flaky-once',
        });
        for (const o of orders)
          await waitForApplied(redis, o.orderId, ['steady', 'flaky']);
        await waitForApplied(redis, flaky.orderId, ['steady']);

        for (const o of [...orders, flaky])
          expect(await redis.hget('test:steady', o.orderId)).toBe('1');
        for (const o of orders)
          expect(await redis.hget('test:flaky', o.orderId)).toBe('1');
        if (mode === 'ephemeral') {
          // At most once: the failure is counted, and the order is gone for that listener.
          await waitFor(
            async () =>
              (await redis.hget(listenerStatsKey('flaky'), 'failed')) === '1',
            { what: 'the failure counted' },
          );
          expect(await redis.hget('test:flaky', flaky.orderId)).toBeNull();
        } else {
          await waitForApplied(redis, flaky.orderId, ['flaky']);
          expect(await redis.hget('test:flaky', flaky.orderId)).toBe('1');
          expect(handlerCalls.get(`flaky:${flaky.orderId}`)).toBe(2);
        }
        // The retry ran only the member that failed: the other's handler ran once, and its
        // effects were never offered to Redis again.
        expect(handlerCalls.get(`steady:${flaky.orderId}`)).toBe(1);
        expect(
          await redis.hget(listenerStatsKey('steady'), 'duplicates'),
        ).toBeNull();
      } finally {
        await app.close();
      }
    });
  },
);

describe('ephemeral delivery works by the batch: the announcements of one read are one order read and one script', () => {
  it('for a group of two listeners on two channels', async () => {
    const server = await PrivateRedis.start();
    const redis = server.client();
    const app = await startListenersApp({
      redisUrl: server.url,
      listeners: [GroupListenersModule],
      logger: false,
    });
    // What the listeners process asks Redis (MONITOR; commands a script runs say "lua").
    const monitor = await redis.monitor();
    const orderReads: string[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (
        source !== 'lua' &&
        args[0].toLowerCase() === 'hgetall' &&
        args[1].startsWith('purchase_order_details:')
      )
        orderReads.push(args[1]);
    });
    try {
      const scripts = await commandCalls(redis, 'evalsha');
      // 20 orders recorded and announced in one MULTI: the subscriber reads them at once.
      const orders = Array.from({ length: 20 }, () =>
        newOrder({ event: 'Mens 4x400', who: 'fan' }),
      );
      const multi = redis.multi();
      for (const o of orders) multi.hset(orderKey(o.orderId), orderToHash(o));
      for (const o of orders) addAnnouncement(multi, o.orderId, o.event);
      await multi.exec();
      for (const o of orders)
        await waitForApplied(redis, o.orderId, ['steady', 'flaky']);
      // Each order is announced on two channels, one heard by each listener: one read each
      // (sent together), and one script for all 20 orders and both listeners.
      expect(orderReads).toHaveLength(20);
      expect((await commandCalls(redis, 'evalsha')) - scripts).toBe(1);
    } finally {
      monitor.disconnect();
      await app.close();
      await server.destroy();
    }
  });
});

describe('durable delivery: one enqueue per order, however it was announced', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let queues: GroupQueues;
  let app: RunningListenersApp;

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
    queues = new GroupQueues(() => server.client());
    app = await startListenersApp({
      redisUrl: server.url,
      listeners: [GroupListenersModule],
      env: { DELIVERY: 'durable' },
      logger: false,
    });
  });

  afterAll(async () => {
    await queues?.close();
    await app?.close();
    await server?.destroy();
  });

  /** How many of the group queue's jobs carry the order, whatever their state. */
  async function jobsCarrying(orderId: string): Promise<number> {
    const jobs = await queues
      .get('durable')
      .getJobs(['completed', 'waiting', 'active', 'delayed', 'failed']);
    return jobs.filter((job) => jobMessageIds(job.data).includes(orderId))
      .length;
  }

  it('a raw PUBLISH from another program is enqueued once, by the listeners process', async () => {
    const orderId = newOrderId();
    await redis.hset(
      orderKey(orderId),
      orderToHash({
        orderId,
        who: 'raw',
        qty: 1,
        cost: '20',
        event: 'Womens Judo',
        ts: 1_700_000_000,
      }),
    );
    await redis.publish(ORDERS_CHANNEL, orderId);
    await redis.publish(eventChannel('Womens Judo'), orderId);
    await waitForApplied(redis, orderId, ['steady', 'flaky']);
    // Applied on the announcement: its job may come a moment later.
    await waitFor(async () => (await jobsCarrying(orderId)) >= 1, {
      what: `the job of ${orderId}`,
    });
    expect(await jobsCarrying(orderId)).toBe(1);
  });

  it('a raw PUBLISH read together with the announcements of recorded orders is enqueued once, and only it', async () => {
    const { publisher, close } = standaloneOrderPublisher(
      redis,
      validatePodiumEnv({ REDIS_URL: server.url }),
    );
    try {
      const raw = newOrder({ event: 'Womens Judo', who: 'raw' });
      await redis.hset(orderKey(raw.orderId), orderToHash(raw));
      // The raw announcement and the box office's own go out in the same tick, so the
      // listeners process reads them together.
      const recorded = Array.from({ length: 5 }, () =>
        newOrder({ event: 'Womens Judo', who: 'bought' }),
      );
      const [, ...results] = await Promise.all([
        addAnnouncement(redis.multi(), raw.orderId, raw.event).exec(),
        ...recorded.map((o) => publisher.record(o)),
      ]);
      expect(results.map((r) => r.outcome)).toEqual(Array(5).fill('created'));
      for (const o of [raw, ...recorded]) {
        await waitForApplied(redis, o.orderId, ['steady', 'flaky']);
        // Applied on the announcement: its job may come a moment later.
        await waitFor(async () => (await jobsCarrying(o.orderId)) >= 1, {
          what: `the job of ${o.orderId}`,
        });
        expect(await jobsCarrying(o.orderId)).toBe(1);
      }
    } finally {
      await close();
    }
  });

  it("an order recorded by podium's publisher is enqueued once, by the publisher", async () => {
    const { publisher, close } = standaloneOrderPublisher(
      redis,
      validatePodiumEnv({ REDIS_URL: server.url }),
    );
    try {
      const order = newOrder({ event: 'Womens Judo', who: 'bought' });
      expect((await publisher.record(order)).outcome).toBe('created');
      await waitForApplied(redis, order.orderId, ['steady', 'flaky']);
      // Applied on the announcement: its job may come a moment later.
      await waitFor(async () => (await jobsCarrying(order.orderId)) >= 1, {
        what: `the job of ${order.orderId}`,
      });
      expect(await jobsCarrying(order.orderId)).toBe(1);
    } finally {
      await close();
    }
  });
});

describe('bounded memory: at MAX_IN_FLIGHT the subscriber stops reading', () => {
  it('the backlog waits in Redis; a subscriber Redis cuts is logged, subscribes again, goes on, and what it missed shows as lost', async () => {
    const server = await PrivateRedis.start();
    const redis = server.client();
    // Redis cuts a subscriber that holds more than 256 KB of unread messages.
    await redis.config(
      'SET',
      'client-output-buffer-limit',
      'pubsub 256kb 128kb 1',
    );
    const logs = new CapturedLogger();
    const app = await startListenersApp({
      redisUrl: server.url,
      listeners: [GatedListenerModule],
      env: { MAX_IN_FLIGHT: '1' },
      logger: logs,
    });
    const boxOffice = await startBoxOffice(server.url);
    const { publisher, close } = standaloneOrderPublisher(
      redis,
      validatePodiumEnv({ REDIS_URL: server.url }),
    );
    const order = () => ({
      orderId: newOrderId(),
      who: 'gate',
      qty: 1,
      cost: '20',
      event: 'Gate',
      ts: 1_700_000_000,
    });
    try {
      closeGate();
      const held = order();
      await publisher.record(held);
      await waitFor(() => app.app.get(AnnouncementDispatcher).size === 1, {
        what: 'the first order in flight',
      });

      // The process holds one order and reads nothing more: 40,000 other announcements
      // (about 5 MB, past the kernel's socket buffers) pile up in Redis's output buffer
      // until Redis cuts the connection. The 30 orders recorded next are never heard.
      const filler = 'X'.repeat(100);
      for (let batch = 0; batch < 40; batch++) {
        const pipeline = redis.pipeline();
        for (let i = 0; i < 1000; i++)
          pipeline.publish('purchase_orders', `${filler}${batch}-${i}`);
        await pipeline.exec();
      }
      for (let i = 0; i < 30; i++) await publisher.record(order());
      expect(app.app.get(AnnouncementDispatcher).size).toBe(1);

      gate.release();
      await waitForApplied(redis, held.orderId, ['gated']);
      await waitFor(() => app.transport.reconnectCount >= 1, {
        what: 'the cut subscriber to reconnect',
        timeoutMs: 20_000,
      });
      await waitFor(() => app.transport.isSubscribed(), {
        what: 'the subscriber to be back',
      });
      expect(
        logs.matching('Subscriber connection lost').length,
      ).toBeGreaterThanOrEqual(1);

      await waitFor(
        async () => {
          const after = order();
          await publisher.record(after);
          await waitForApplied(redis, after.orderId, ['gated'], 1000).catch(
            () => undefined,
          );
          return (await redis.sismember('test:gated', after.orderId)) === 1;
        },
        {
          what: 'an order recorded after the cut to be applied',
          timeoutMs: 20_000,
          intervalMs: 100,
        },
      );
      // Every order recorded was announced to the listener: what it did not apply is lost, and shown.
      const status = await waitFor(
        async () => {
          const { body } = await request(boxOffice.getHttpServer())
            .get('/listeners')
            .expect(200);
          const gated = body.find((l: { name: string }) => l.name === 'gated');
          return (
            gated.counts.announced === gated.counts.applied + gated.lost &&
            gated
          );
        },
        { what: 'announced = applied + lost for the cut listener' },
      );
      expect(status.lost).toBeGreaterThan(0);
      expect(status.counts.applied).toBe(await redis.scard('test:gated'));
      // The listeners process says so too, once the subscriber is back.
      const warning = await waitFor(() => logs.matching('[gated] missed ')[0], {
        what: 'the warning with the number of orders missed',
      });
      expect(warning).toContain(
        `missed ${status.lost} order(s) while its subscriber was away`,
      );
    } finally {
      gate.release();
      await close();
      await boxOffice.close();
      await app.close();
      await server.destroy();
    }
  });
});
