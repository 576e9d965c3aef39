import type { INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import request from 'supertest';
import {
  eventChannel,
  eventKey,
  newOrderId,
  orderKey,
  orderToHash,
  ORDERS_CHANNEL,
  type Order,
} from '@podium/orders';
import { DELIVERY_MODES } from '@podium/core';
import {
  operatorAuth,
  PrivateRedis,
  startListenersApp,
  waitFor,
  waitForApplied,
  type RunningListenersApp,
} from '@podium/testing';
import { startBoxOffice } from './support/box-office.js';
import { GroupListenersModule } from './support/group-listeners.js';

/** A client that gives up after 5 s: a request that hangs longer than that fails the test. */
const CLIENT_TIMEOUT_MS = 5000;

const rawOrder = (fields: Partial<Order> = {}): Order => ({
  orderId: newOrderId(),
  who: 'raw',
  qty: 1,
  cost: '20',
  event: 'Womens Judo',
  ts: 1_700_000_000,
  ...fields,
});

/** Records an order the way another program would (the seed's protocol), without announcing it. */
async function writeOrder(
  redis: Redis,
  order: Order,
  fields: Record<string, string> = {},
): Promise<void> {
  await redis.hset(orderKey(order.orderId), {
    ...orderToHash(order),
    ...fields,
  });
}

async function announce(redis: Redis, order: Order): Promise<void> {
  await redis.publish(ORDERS_CHANNEL, order.orderId);
  await redis.publish(eventChannel(order.event), order.orderId);
}

/**
 * Makes Redis refuse writes as when it reaches maxmemory with noeviction: maxmemory is set
 * below what it already uses (filling it with data instead leaves it at the edge, where
 * freed client buffers let some writes through). Returns how to undo it.
 */
async function runOutOfMemory(redis: Redis): Promise<() => Promise<void>> {
  const used = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
  await redis.config('SET', 'maxmemory-policy', 'noeviction');
  await redis.config('SET', 'maxmemory', String(Math.floor(used / 2)));
  return async () => void (await redis.config('SET', 'maxmemory', '0'));
}

describe('Redis stopped: the box office answers 503 at once, records nothing later, and recovers', () => {
  let server: PrivateRedis;
  let app: INestApplication;

  beforeAll(async () => {
    server = await PrivateRedis.start({ appendonly: true });
    app = await startBoxOffice(server.url, { PURCHASE_RATE_LIMIT: '0' });
    await request(app.getHttpServer())
      .post('/events')
      .set('Authorization', operatorAuth)
      .send({ name: 'Womens Judo', price: 20 })
      .expect(201);
  });

  afterAll(async () => {
    await app?.close();
    await server?.destroy();
  });

  it('answers every request that needs Redis with 503, Retry-After and a message, and none of them runs when Redis is back', async () => {
    const http = () => request(app.getHttpServer());
    await server.stop();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        http()
          .post('/purchases')
          .timeout(CLIENT_TIMEOUT_MS)
          .send({ event: 'Womens Judo', qty: 1, who: 'outage' }),
      ),
    );
    for (const res of answers) {
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body).toEqual({
        statusCode: 503,
        message: 'Redis is unavailable: nothing was recorded; try again later',
        error: 'Service Unavailable',
      });
    }
    expect(
      (await http().get('/events').timeout(CLIENT_TIMEOUT_MS)).status,
    ).toBe(503);
    expect(
      (await http().get('/health/ready').timeout(CLIENT_TIMEOUT_MS)).status,
    ).toBe(503);

    await server.start();
    const redis = server.client();
    await waitFor(
      async () => (await http().get('/health/ready')).status === 200,
      { what: 'the box office ready again' },
    );
    // None of the refused purchases was kept to run later.
    expect(await redis.hget(eventKey('Womens Judo'), 'sold')).toBe('0');
    expect(await redis.keys('purchase_order_details:*')).toEqual([]);
    await http()
      .post('/purchases')
      .send({ event: 'Womens Judo', qty: 1, who: 'after' })
      .expect(201);
    expect(await redis.hget(eventKey('Womens Judo'), 'sold')).toBe('1');
  });
});

describe.each(DELIVERY_MODES)('Redis out of memory, %s delivery', (mode) => {
  let server: PrivateRedis;
  let redis: Redis;
  let boxOffice: INestApplication;
  let listeners: RunningListenersApp;

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
    listeners = await startListenersApp({
      redisUrl: server.url,
      listeners: [GroupListenersModule],
      env: { DELIVERY: mode },
      logger: false,
      listen: true,
    });
    boxOffice = await startBoxOffice(server.url, { PURCHASE_RATE_LIMIT: '0' });
    await request(boxOffice.getHttpServer())
      .post('/events')
      .set('Authorization', operatorAuth)
      .send({ name: 'Womens Judo', price: 20 })
      .expect(201);
  });

  afterAll(async () => {
    await listeners?.close();
    await boxOffice?.close();
    await server?.destroy();
  });

  it('purchases answer 503 saying so, readiness turns 503, and orders announced meanwhile are not lost without a trace', async () => {
    const http = () => request(boxOffice.getHttpServer());
    const before = rawOrder();
    await http()
      .post('/purchases')
      .send({ event: 'Womens Judo', qty: 1, who: 'before' })
      .expect(201);
    // Orders another program recorded before memory ran out, announced after: PUBLISH still works.
    const late = [rawOrder(), rawOrder()];
    for (const o of [before, ...late]) await writeOrder(redis, o);

    const freeMemory = await runOutOfMemory(redis);
    try {
      const refused = await http()
        .post('/purchases')
        .timeout(CLIENT_TIMEOUT_MS)
        .send({ event: 'Womens Judo', qty: 1, who: 'oom' });
      expect(refused.status).toBe(503);
      expect(refused.body.message).toBe(
        'Redis is out of memory and refuses writes (maxmemory): nothing was recorded; try again later',
      );
      const ready = await http().get('/health/ready').expect(503);
      expect(ready.body.details.redis).toMatchObject({
        status: 'down',
        message: 'Redis is out of memory and refuses writes',
      });
      await request(listeners.url!).get('/health/ready').expect(503);
      for (const o of late) await announce(redis, o);

      if (mode === 'ephemeral') {
        // At most once: tried again briefly, then failed, counted, and kept in the failed set once Redis takes writes again.
        await waitFor(
          async () =>
            (await request(listeners.url!).get('/metrics')).text.match(
              /podium_listener_messages_processed_total\{listener="steady",outcome="failed"\} 2/,
            ),
          {
            what: 'both orders counted failed',
          },
        );
      } else {
        // The enqueue is tried again while Redis refuses it: the orders wait in this process.
        await new Promise((resolve) => setTimeout(resolve, 500));
        for (const o of late)
          expect(
            await redis.hexists(`podium:applied:${o.orderId}`, 'steady'),
          ).toBe(0);
      }
    } finally {
      await freeMemory();
    }

    await waitFor(
      async () => (await http().get('/health/ready')).status === 200,
      { what: 'readiness back' },
    );
    if (mode === 'ephemeral') {
      const failed = await waitFor(
        async () => {
          const { body } = await http()
            .get('/listeners/steady/failed')
            .set('Authorization', operatorAuth)
            .expect(200);
          return body.length === 2 && body;
        },
        { what: 'the failed orders in the failed set once Redis takes writes' },
      );
      expect(failed.map((f: { orderId: string }) => f.orderId).sort()).toEqual(
        late.map((o) => o.orderId).sort(),
      );
      await http()
        .post('/listeners/steady/failed/retry')
        .set('Authorization', operatorAuth)
        .expect(200);
    }
    for (const o of late)
      await waitForApplied(redis, o.orderId, ['steady', 'flaky'], 15_000);
    const { body } = await http().get('/listeners').expect(200);
    expect(
      body.find((l: { name: string }) => l.name === 'steady'),
    ).toMatchObject({ counts: { failed: 0, lost: 0 }, lost: 0 });
  });
});
