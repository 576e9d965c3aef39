import type { INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import request from 'supertest';
import {
  eventChannel,
  newOrderId,
  orderKey,
  orderToHash,
  ORDERS_CHANNEL,
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

describe.each(DELIVERY_MODES)('a poison order, %s delivery', (mode) => {
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
      env: { DELIVERY: mode, QUEUE_ATTEMPTS: '2', QUEUE_BACKOFF_MS: '10' },
      logger: false,
    });
    boxOffice = await startBoxOffice(server.url);
  });

  afterAll(async () => {
    await listeners?.close();
    await boxOffice?.close();
    await server?.destroy();
  });

  it('reaches the failed set, and a retry once its hash is fixed reads it afresh and applies it', async () => {
    const http = () => request(boxOffice.getHttpServer());
    const orderId = newOrderId();
    // Another program wrote a bad quantity: every listener rejects it the same way.
    await redis.hset(orderKey(orderId), {
      ...orderToHash({
        orderId,
        who: 'poison',
        qty: 1,
        cost: '20',
        event: 'Womens Judo',
        ts: 1_700_000_000,
      }),
      qty: 'abc',
    });
    await redis.publish(ORDERS_CHANNEL, orderId);
    await redis.publish(eventChannel('Womens Judo'), orderId);

    for (const listener of ['steady', 'flaky']) {
      const failed = await waitFor(
        async () => {
          const { body } = await http()
            .get(`/listeners/${listener}/failed`)
            .set('Authorization', operatorAuth)
            .expect(200);
          return body.length === 1 && body;
        },
        { what: `the poison order in ${listener}'s failed set` },
      );
      expect(failed[0]).toMatchObject({
        orderId,
        error: `order ${orderId}: field "qty" is not an integer from 1 to 2147483647`,
      });
    }
    // Nothing half-applied: no listener's marker (queued and durable: the order's queued mark only).
    const marks = await redis.hkeys(`podium:applied:${orderId}`);
    expect(marks.filter((mark) => !mark.startsWith('queued:'))).toEqual([]);

    await redis.hset(orderKey(orderId), 'qty', '3');
    const retried = await http()
      .post('/listeners/steady/failed/retry')
      .set('Authorization', operatorAuth)
      .expect(200);
    expect(retried.body).toEqual({ retried: 1 });
    if (mode === 'ephemeral')
      await http()
        .post('/listeners/flaky/failed/retry')
        .set('Authorization', operatorAuth)
        .expect(200);
    await waitForApplied(redis, orderId, ['steady', 'flaky']);
    expect(await redis.hget('test:steady', orderId)).toBe('1');
    for (const listener of ['steady', 'flaky']) {
      expect(
        (
          await http()
            .get(`/listeners/${listener}/failed`)
            .set('Authorization', operatorAuth)
            .expect(200)
        ).body,
      ).toEqual([]);
    }
    const { body } = await http().get('/listeners').expect(200);
    expect(
      body.find((l: { name: string }) => l.name === 'steady').counts,
    ).toMatchObject({ applied: 1, rejected: 0, failed: 0 });
  });
});
