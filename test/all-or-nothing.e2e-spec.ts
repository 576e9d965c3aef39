import type { INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { DELIVERY_MODES, appliedKey } from '@podium/core';
import { SALES_SUMMARY, salesSetKey, salesSummaryField } from '@podium/orders';
import {
  operatorAuth,
  PrivateRedis,
  startListenersApp,
  waitFor,
  type RunningListenersApp,
} from '@podium/testing';
import { SalesSummaryModule } from '@podium/listeners';
import { startBoxOffice } from './support/box-office.js';

const EVENT = 'Womens Judo';

/*
 * A listener's writes on an order are applied entirely or not at all. The sales summary
 * writes three things for an order: its id in sales:<event>, the cost in
 * <event>:total_sales, the tickets in <event>:total_tickets_sold. Another program left a
 * value that is not an integer in the last field: the third write fails every time, until
 * the field is fixed. Redis does not roll a script back, so before podium took writes
 * back, every try left the first two applied (total_sales at 5 and 6 times the cost).
 */
describe.each(DELIVERY_MODES)(
  'all or nothing, %s delivery: a listener whose last write fails',
  (mode) => {
    let server: PrivateRedis;
    let redis: Redis;
    let boxOffice: INestApplication;
    let listeners: RunningListenersApp;
    const http = () => request(boxOffice.getHttpServer());

    beforeAll(async () => {
      server = await PrivateRedis.start();
      redis = server.client();
      listeners = await startListenersApp({
        redisUrl: server.url,
        listeners: [SalesSummaryModule],
        env: { DELIVERY: mode, QUEUE_ATTEMPTS: '3', QUEUE_BACKOFF_MS: '10' },
        logger: false,
      });
      boxOffice = await startBoxOffice(server.url, {
        PURCHASE_RATE_LIMIT: '0',
      });
      await http()
        .post('/events')
        .set('Authorization', operatorAuth)
        .send({ name: EVENT, price: 20 })
        .expect(201);
    });

    afterAll(async () => {
      await listeners?.close();
      await boxOffice?.close();
      await server?.destroy();
    });

    it('never leaves its first writes applied, lands in the failed set with the Redis error, and applies once after the fix and a retry', async () => {
      const field = salesSummaryField.ticketsSold(EVENT);
      await redis.hset(SALES_SUMMARY, field, 'not a number');
      const { body: order } = await http()
        .post('/purchases')
        .send({ event: EVENT, qty: 2, who: 'ann' })
        .expect(201);

      const failed = await waitFor(
        async () => {
          const { body } = await http()
            .get('/listeners/sales-summary/failed')
            .set('Authorization', operatorAuth)
            .expect(200);
          return body.length > 0 && body;
        },
        { what: 'the order in the failed set', timeoutMs: 15_000 },
      );
      expect(failed).toEqual([
        expect.objectContaining({
          orderId: order.orderId,
          error: expect.stringContaining('hash value is not an integer'),
        }),
      ]);
      // Every try was taken back: nothing of the order in the summary, no marker.
      expect(
        await redis.hget(SALES_SUMMARY, salesSummaryField.totalSales(EVENT)),
      ).toBeNull();
      expect(await redis.scard(salesSetKey(EVENT))).toBe(0);
      expect(
        await redis.hget(appliedKey(order.orderId), 'sales-summary'),
      ).toBeNull();

      await redis.hset(SALES_SUMMARY, field, '0'); // the cause, fixed
      await http()
        .post('/listeners/sales-summary/failed/retry')
        .set('Authorization', operatorAuth)
        .expect(200, { retried: 1 });
      await waitFor(
        async () =>
          (await redis.hget(appliedKey(order.orderId), 'sales-summary')) ===
          '1',
        { what: 'the order applied after the retry' },
      );
      expect(await redis.hgetall(SALES_SUMMARY)).toEqual({
        [salesSummaryField.totalSales(EVENT)]: '40',
        [field]: '2',
      });
      expect(await redis.smembers(salesSetKey(EVENT))).toEqual([order.orderId]);
      const { body: statuses } = await http().get('/listeners').expect(200);
      expect(statuses[0].counts).toMatchObject({
        announced: 1,
        applied: 1,
        failed: 0,
      });
    });
  },
);
