import {
  ALERTS,
  eventHistogramKey,
  eventKey,
  HISTOGRAM_ALL_EVENTS,
  invoicesKey,
  LOTTERY_WINNERS,
  orderKey,
  orderToHash,
  SALES_SUMMARY,
  salesSetKey,
  type Order,
} from '@podium/orders';
import type { HttpModuleTest } from '@podium/testing';
import { startBoxOfficeModule } from '../box-office.testing.js';
import { ReportsModule } from './reports.module.js';

/**
 * The read API on the seed's keys, written here as the Contracts say, the way any listener
 * (podium's, or the seed's Python ones) writes them.
 */
describe("ReportsModule: the read API on the seed's metric keys", () => {
  let box: HttpModuleTest;
  const order = (orderId: string, who: string, ts: number): Order => ({
    orderId,
    who,
    qty: 1,
    cost: '20',
    event: 'Womens Judo',
    ts,
  });

  beforeAll(async () => {
    box = await startBoxOfficeModule([ReportsModule]);
    const { redis } = box;
    await redis.hset(eventKey('Womens Judo'), {
      name: 'Womens Judo',
      price: '20',
      sold: '5',
    });
    await redis.hset(eventKey('Curling'), {
      name: 'Curling',
      price: '7',
      sold: '0',
    });
    await redis.hset(SALES_SUMMARY, {
      'Womens Judo:total_sales': '100',
      'Womens Judo:total_tickets_sold': '5',
    });
    await redis.sadd(
      salesSetKey('Womens Judo'),
      'ORDER0000001',
      'ORDER0000002',
    );
    await redis.call(
      'BITFIELD',
      HISTOGRAM_ALL_EVENTS,
      'SET',
      'u32',
      '#14',
      '5',
      'SET',
      'u32',
      '#23',
      '1',
    );
    await redis.call(
      'BITFIELD',
      eventHistogramKey('Womens Judo'),
      'SET',
      'u32',
      '#14',
      '5',
    );
    for (const o of [
      order('ORDER0000002', 'ann', 2000),
      order('ORDER0000001', 'ann', 1000),
      order('ORDER0000003', 'bob', 3000),
    ]) {
      await redis.hset(orderKey(o.orderId), orderToHash(o));
    }
    await redis.sadd(
      invoicesKey('ann'),
      'ORDER0000001',
      'ORDER0000002',
      'GONE00000000',
    ); // an order deleted since
    await redis.rpush(LOTTERY_WINNERS, 'ORDER0000003', 'ORDER0000001');
    for (let i = 1; i <= 30; i++)
      await redis.lpush(
        ALERTS,
        JSON.stringify({ orderId: `A${i}`, message: `alert ${i}` }),
      );
  });
  afterAll(() => box?.close());

  it('GET /metrics/sales: totals, tickets and orders of every event', async () => {
    await box
      .http()
      .get('/metrics/sales')
      .expect(200, [
        { event: 'Curling', totalSales: 0, ticketsSold: 0, orders: 0 },
        { event: 'Womens Judo', totalSales: 100, ticketsSold: 5, orders: 2 },
      ]);
  });

  it('GET /metrics/histogram: the 24 hourly counts, of all events or one; 404 for an unknown event', async () => {
    const hours = (counts: Record<number, number>) =>
      Array.from({ length: 24 }, (_, h) => counts[h] ?? 0);
    await box
      .http()
      .get('/metrics/histogram')
      .expect(200, {
        event: null,
        encoding: 'u32',
        hours: hours({ 14: 5, 23: 1 }),
      });
    await box
      .http()
      .get('/metrics/histogram')
      .query({ event: 'Womens Judo' })
      .expect(200, {
        event: 'Womens Judo',
        encoding: 'u32',
        hours: hours({ 14: 5 }),
      });
    const { body } = await box
      .http()
      .get('/metrics/histogram')
      .query({ event: 'Fencing' })
      .expect(404);
    expect(body.message).toBe('event "Fencing" does not exist');
  });

  it("GET /customers/:who/invoices: the customer's orders, oldest first, without those gone since", async () => {
    const { body } = await box
      .http()
      .get('/customers/ann/invoices')
      .expect(200);
    expect(body.map((o: Order) => o.orderId)).toEqual([
      'ORDER0000001',
      'ORDER0000002',
    ]);
    await box.http().get('/customers/nobody/invoices').expect(200, []);
  });

  it('GET /lottery/winners: in the order they won', async () => {
    const { body } = await box.http().get('/lottery/winners').expect(200);
    expect(body.map((o: Order) => o.orderId)).toEqual([
      'ORDER0000003',
      'ORDER0000001',
    ]);
  });

  it('GET /alerts: newest first, 20 by default, `limit` from 1 to 1000', async () => {
    const { body } = await box.http().get('/alerts').expect(200);
    expect(body.map((a: { orderId: string }) => a.orderId)).toEqual(
      Array.from({ length: 20 }, (_, i) => `A${30 - i}`),
    );
    expect(
      (await box.http().get('/alerts').query({ limit: 2 }).expect(200)).body,
    ).toEqual([
      { orderId: 'A30', message: 'alert 30' },
      { orderId: 'A29', message: 'alert 29' },
    ]);
    for (const limit of ['0', '1001', '2.5', 'ten', '']) {
      const res = await box.http().get('/alerts').query({ limit });
      expect({ limit, status: res.status, message: res.body.message }).toEqual({
        limit,
        status: 400,
        message: 'limit must be an integer from 1 to 1000',
      });
    }
  });
});
