import type { INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import request from 'supertest';
import {
  QueuedDelivery,
  GroupQueues,
  jobMessageIds,
  listenerStatsKey,
  DURABLE_SUBSCRIPTIONS,
} from '@podium/core';
import {
  eventKey,
  invoicesKey,
  SALES_SUMMARY,
  salesSetKey,
  announceOrder,
} from '@podium/orders';
import {
  operatorAuth,
  PrivateRedis,
  startListenersApp,
  waitFor,
  waitForApplied,
} from '@podium/testing';
import { LISTENER_MODULES } from '@podium/listeners';
import { startBoxOffice } from './support/box-office.js';
import { queuedOrders } from './support/queued-orders.js';
import { picky, PickyModule } from './support/picky-listener.js';

const BASE = ['sales-histogram', 'sales-summary', 'customer-invoices'];
const FAST_RETRIES = { QUEUE_ATTEMPTS: '2', QUEUE_BACKOFF_MS: '10' };

describe('queued delivery (BullMQ, real Redis)', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let boxOffice: INestApplication;

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
    boxOffice = await startBoxOffice(server.url);
  });

  afterAll(async () => {
    await boxOffice?.close();
    await server?.destroy();
  });

  it('applies every order through a worker, each order in one job for the whole group even when announced twice', async () => {
    const app = await startListenersApp({
      redisUrl: server.url,
      listeners: LISTENER_MODULES,
      env: { DELIVERY: 'queued' },
      logger: false,
    });
    const queues = new GroupQueues(() => server.client());
    try {
      const orders = [];
      for (let i = 0; i < 10; i++)
        orders.push(
          await announceOrder(redis, { event: 'Queued', who: 'q', qty: 2 }),
        );
      await announceOrder(redis, { ...orders[0] }); // the same order id announced again
      for (const o of orders) await waitForApplied(redis, o.orderId, BASE);
      expect(await redis.hget(SALES_SUMMARY, 'Queued:total_tickets_sold')).toBe(
        '20',
      );
      const queued = await queuedOrders(server, 'queued');
      expect(orders.map((o) => queued.get(o.orderId))).toEqual(
        Array(10).fill(1),
      );
    } finally {
      await queues.close();
      await app.close();
    }
  });

  it('a poison order lands in the failed set with its error, others flow on, and a retry applies it once fixed', async () => {
    picky.broken = true;
    const app = await startListenersApp({
      redisUrl: server.url,
      listeners: [PickyModule],
      env: { DELIVERY: 'queued', ...FAST_RETRIES },
      logger: false,
    });
    const http = () => request(boxOffice.getHttpServer());
    try {
      const poison = await announceOrder(redis, {
        event: 'Picky',
        who: 'poison',
      });
      const fine = [];
      for (let i = 0; i < 5; i++)
        fine.push(await announceOrder(redis, { event: 'Picky', who: 'fine' }));
      for (const o of fine) await waitForApplied(redis, o.orderId, ['picky']);

      const failed = await waitFor(
        async () => {
          const { body } = await http()
            .get('/listeners/picky/failed')
            .set('Authorization', operatorAuth)
            .expect(200);
          return (body as unknown[]).length > 0 && body;
        },
        { what: 'the poison order in the failed set' },
      );
      expect(failed).toEqual([
        {
          orderId: poison.orderId,
          error: `cannot handle order ${poison.orderId} by poison`,
          attempts: 2,
          failedAt: expect.any(String),
        },
      ]);
      expect(await redis.hget(listenerStatsKey('picky'), 'failed')).toBe('1');

      picky.broken = false;
      expect(
        (
          await http()
            .post('/listeners/picky/failed/retry')
            .set('Authorization', operatorAuth)
            .expect(200)
        ).body,
      ).toEqual({ retried: 1 });
      await waitForApplied(redis, poison.orderId, ['picky']);
      expect(await redis.scard('test:picky')).toBe(6);
      expect(
        (
          await http()
            .get('/listeners/picky/failed')
            .set('Authorization', operatorAuth)
            .expect(200)
        ).body,
      ).toEqual([]);
      await http()
        .get('/listeners/nobody/failed')
        .set('Authorization', operatorAuth)
        .expect(404);
    } finally {
      await app.close();
    }
  });

  it('two processes share a queue: both work, nothing is counted twice', async () => {
    const env = {
      DELIVERY: 'queued',
      LISTENERS: 'sales-summary',
      QUEUE_CONCURRENCY: '2',
    };
    const one = await startListenersApp({
      redisUrl: server.url,
      listeners: LISTENER_MODULES,
      env,
      logger: false,
    });
    const two = await startListenersApp({
      redisUrl: server.url,
      listeners: LISTENER_MODULES,
      env,
      logger: false,
    });
    const queues = new GroupQueues(() => server.client());
    try {
      const orders = [];
      for (let i = 0; i < 60; i++)
        orders.push(await announceOrder(redis, { event: 'Shared', qty: 1 }));
      for (const o of orders)
        await waitForApplied(redis, o.orderId, ['sales-summary']);
      expect(await redis.hget(SALES_SUMMARY, 'Shared:total_tickets_sold')).toBe(
        '60',
      );
      expect(await redis.scard(salesSetKey('Shared'))).toBe(60);
      const ids = new Set(orders.map((o) => o.orderId));
      const jobs = (await queues.get('queued').getJobs(['completed'])).filter(
        (job) => jobMessageIds(job.data).some((id) => ids.has(id)),
      );
      const workers = new Set(jobs.map((j) => j.processedBy));
      expect(workers).toEqual(
        new Set([
          one.app.get(QueuedDelivery).workerName,
          two.app.get(QueuedDelivery).workerName,
        ]),
      );
    } finally {
      await queues.close();
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('GET /listeners shows each listener with its mode, counters and queue depth', async () => {
    const { body } = await request(boxOffice.getHttpServer())
      .get('/listeners')
      .expect(200);
    const summary = body.find(
      (l: { name: string }) => l.name === 'sales-summary',
    );
    expect(summary).toMatchObject({
      name: 'sales-summary',
      mode: 'queued',
      group: 'queued',
      pattern: 'purchase_orders',
      durableSubscription: false,
      queue: {
        waiting: 0,
        active: 0,
        delayed: 0,
        failed: 0,
        oldestWaitingMs: null,
      },
    });
    expect(summary.counts.applied).toBeGreaterThanOrEqual(70);
    // The poison order failed, then was retried and applied: it is no longer counted failed.
    expect(
      body.find((l: { name: string }) => l.name === 'picky').counts,
    ).toMatchObject({ failed: 0, applied: 6 });
  });

  it('a DELIVERY_<NAME> variable that names no listener stops start-up', async () => {
    await expect(
      startListenersApp({
        redisUrl: server.url,
        listeners: LISTENER_MODULES,
        env: { DELIVERY_SALES_SUMARY: 'queued' },
        logger: false,
      }),
    ).rejects.toThrow(
      'delivery.modes["sales-sumary"] (DELIVERY_SALES_SUMARY) names no listener; known: sales-histogram, sales-summary',
    );
  });
});

describe('durable delivery (BullMQ, real Redis with appendonly)', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let boxOffice: INestApplication;

  beforeAll(async () => {
    server = await PrivateRedis.start({ appendonly: true });
    redis = server.client();
    boxOffice = await startBoxOffice(server.url);
    for (const name of ['Womens Judo', 'Opening Ceremony']) {
      await request(boxOffice.getHttpServer())
        .post('/events')
        .set('Authorization', operatorAuth)
        .send({ name, price: 20 })
        .expect(201);
    }
  });

  afterAll(async () => {
    await boxOffice?.close();
    await server?.destroy();
  });

  const buy = async (event: string, who = 'dur', qty = 1) =>
    (
      await request(boxOffice.getHttpServer())
        .post('/purchases')
        .send({ event, qty, who })
        .expect(201)
    ).body as { orderId: string };

  it('orders recorded while no listeners process runs are applied when one returns', async () => {
    const first = await startListenersApp({
      redisUrl: server.url,
      listeners: LISTENER_MODULES,
      env: { DELIVERY: 'durable' },
      logger: false,
    });
    await first.close();
    expect(await redis.hkeys(DURABLE_SUBSCRIPTIONS)).toEqual(['durable']); // one group: all the app's listeners

    const whileDown = [];
    for (let i = 0; i < 10; i++)
      whileDown.push(
        await buy(i % 2 ? 'Womens Judo' : 'Opening Ceremony', 'offline', 2),
      );
    expect(await redis.smembers(invoicesKey('offline'))).toEqual([]);

    const back = await startListenersApp({
      redisUrl: server.url,
      listeners: LISTENER_MODULES,
      env: { DELIVERY: 'durable' },
      logger: false,
    });
    try {
      for (const o of whileDown) await waitForApplied(redis, o.orderId, BASE);
      expect(await redis.scard(invoicesKey('offline'))).toBe(10);
      expect(
        await redis.hget(SALES_SUMMARY, 'Womens Judo:total_tickets_sold'),
      ).toBe('10');
      expect(
        await redis.hget(SALES_SUMMARY, 'Opening Ceremony:total_orders'),
      ).toBe('5');
    } finally {
      await back.close();
    }
  });

  it('a Redis restart in the middle of a stream loses nothing and counts nothing twice', async () => {
    const app = await startListenersApp({
      redisUrl: server.url,
      listeners: LISTENER_MODULES,
      env: { DELIVERY: 'durable' },
      logger: false,
    });
    try {
      const soldBefore = Number(
        await redis.hget(eventKey('Womens Judo'), 'sold'),
      );
      const bought: { orderId: string }[] = [];
      const statuses = new Set<number>();
      const buying = (async () => {
        // While Redis is away a purchase answers 503 at once (and records nothing): buy on until 60 went through.
        for (let i = 0; bought.length < 60 && i < 2000; i++) {
          const res = await request(boxOffice.getHttpServer())
            .post('/purchases')
            .send({ event: 'Womens Judo', qty: 1, who: 'restart' });
          statuses.add(res.status);
          if (res.status === 201) bought.push(res.body as { orderId: string });
          else await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      await waitFor(() => bought.length >= 20, {
        what: '20 purchases before the restart',
      });
      await server.restart();
      await buying;
      expect(bought.length).toBe(60);
      expect([...statuses].filter((s) => s !== 201 && s !== 503)).toEqual([]);
      for (const o of bought)
        await waitForApplied(redis, o.orderId, BASE, 20_000);
      // A purchase whose answer was lost with the connection may have been recorded all the
      // same (its 503 says so): it is then applied like the others, once.
      const recorded =
        Number(await redis.hget(eventKey('Womens Judo'), 'sold')) - soldBefore;
      await waitFor(
        async () => (await redis.scard(invoicesKey('restart'))) === recorded,
        { what: 'every recorded order invoiced', timeoutMs: 20_000 },
      );
      expect(recorded).toBeGreaterThanOrEqual(bought.length);
      const sold = await redis.hget(eventKey('Womens Judo'), 'sold');
      const summary = Number(
        await redis.hget(SALES_SUMMARY, 'Womens Judo:total_tickets_sold'),
      );
      expect(summary).toBe(Number(sold)); // every ticket sold counted, exactly once
    } finally {
      await app.close();
    }
  });
});
