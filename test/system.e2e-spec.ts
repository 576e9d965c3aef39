import type { INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { seedListenersFor } from '@podium/listeners';
import { hourOfDay, OPENING_CEREMONY } from '@podium/orders';
import {
  operatorAuth,
  PrivateRedis,
  startListenersApp,
  waitForApplied,
  type RunningListenersApp,
} from '@podium/testing';
import type { PurchaseResponse } from '../apps/box-office/src/purchases/purchases.controller.js';
import { SIX_LISTENER_MODULES } from '../examples/sixth-listener/listener-modules.js';
import { startBoxOffice } from './support/box-office.js';

type PurchaseBody = PurchaseResponse;

describe('box office and listeners together: the read API shows what was bought', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let boxOffice: INestApplication;
  let listeners: RunningListenersApp;
  const bought: PurchaseBody[] = [];

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
    // podium's listeners and one more, the README's recipe: the seed's figures stay exact.
    listeners = await startListenersApp({
      redisUrl: server.url,
      listeners: SIX_LISTENER_MODULES,
      logger: false,
    });
    boxOffice = await startBoxOffice(server.url);
    const http = request(boxOffice.getHttpServer());
    for (const name of ['Womens Judo', OPENING_CEREMONY])
      await http
        .post('/events')
        .set('Authorization', operatorAuth)
        .send({ name, price: 20 })
        .expect(201);
    for (let i = 0; i < 12; i++) {
      const event = i % 2 === 0 ? OPENING_CEREMONY : 'Womens Judo';
      const { body } = await request(boxOffice.getHttpServer())
        .post('/purchases')
        .send({ event, qty: 1 + (i % 3), who: i % 3 === 0 ? 'ann' : 'bob' })
        .expect(201);
      bought.push(body as PurchaseBody);
    }
    for (const order of bought)
      await waitForApplied(redis, order.orderId, seedListenersFor(order.event));
  });

  afterAll(async () => {
    await boxOffice?.close();
    await listeners?.close();
    await server?.destroy();
  });

  const http = () => request(boxOffice.getHttpServer());
  const of = (event: string) => bought.filter((o) => o.event === event);
  const sum = (orders: PurchaseBody[], field: 'qty' | 'cost') =>
    orders.reduce((n, o) => n + o[field], 0);

  it('GET /metrics/sales totals every event', async () => {
    const { body } = await http().get('/metrics/sales').expect(200);
    expect(body).toEqual([
      {
        event: OPENING_CEREMONY,
        totalSales: sum(of(OPENING_CEREMONY), 'cost'),
        ticketsSold: sum(of(OPENING_CEREMONY), 'qty'),
        orders: 6,
      },
      {
        event: 'Womens Judo',
        totalSales: sum(of('Womens Judo'), 'cost'),
        ticketsSold: sum(of('Womens Judo'), 'qty'),
        orders: 6,
      },
    ]);
  });

  it('GET /metrics/histogram counts tickets by hour, per event and overall', async () => {
    const all = await http().get('/metrics/histogram').expect(200);
    expect(all.body.hours).toHaveLength(24);
    expect(all.body.hours.reduce((a: number, b: number) => a + b, 0)).toBe(
      sum(bought, 'qty'),
    );
    expect(all.body.hours[hourOfDay(bought[0].ts)]).toBeGreaterThan(0);
    const judo = await http()
      .get('/metrics/histogram')
      .query({ event: 'Womens Judo' })
      .expect(200);
    expect(judo.body).toMatchObject({ event: 'Womens Judo', encoding: 'u32' });
    expect(judo.body.hours.reduce((a: number, b: number) => a + b, 0)).toBe(
      sum(of('Womens Judo'), 'qty'),
    );
    await http()
      .get('/metrics/histogram')
      .query({ event: 'Curling' })
      .expect(404);
  });

  it("GET /customers/:who/invoices lists a customer's orders", async () => {
    const { body } = await http().get('/customers/ann/invoices').expect(200);
    expect(body.map((o: { orderId: string }) => o.orderId).sort()).toEqual(
      bought
        .filter((o) => o.who === 'ann')
        .map((o) => o.orderId)
        .sort(),
    );
  });

  it('GET /lottery/winners shows every 5th Opening Ceremony order', async () => {
    const { body } = await http().get('/lottery/winners').expect(200);
    expect(body.map((o: { orderId: string }) => o.orderId)).toEqual([
      of(OPENING_CEREMONY)[4].orderId,
    ]);
  });

  it('GET /alerts shows the latest alerts first, none for Opening Ceremony', async () => {
    const { body } = await http()
      .get('/alerts')
      .query({ limit: 2 })
      .expect(200);
    const judo = of('Womens Judo');
    expect(body.map((a: { orderId: string }) => a.orderId)).toEqual([
      judo[5].orderId,
      judo[4].orderId,
    ]);
    expect(body[0].message).toBe(
      `Purchase Womens Judo: #${judo[5].qty} $${judo[5].cost}`,
    );
  });
});
