import type { INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { eventChannel, orderKey, ORDERS_CHANNEL } from '@podium/orders';
import { operatorAuth, PrivateRedis, waitFor } from '@podium/testing';
import { startBoxOffice } from './support/box-office.js';

describe('box office HTTP API (real Redis)', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let app: INestApplication;
  let subscriber: Redis;
  const announced: [string, string][] = [];

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
    subscriber = server.client();
    subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => announced.push([channel, message]));
    await subscriber.psubscribe(`${ORDERS_CHANNEL}*`);
    app = await startBoxOffice(server.url);
    await request(app.getHttpServer()).post('/events').set('Authorization', operatorAuth).send({ name: 'Womens Judo', price: 20 }).expect(201);
    await request(app.getHttpServer()).post('/events').set('Authorization', operatorAuth).send({ name: '100m [Final]*', price: 12.5, capacity: 5 }).expect(201);
  });

  afterAll(async () => {
    await app?.close();
    await server?.destroy();
  });

  const http = () => request(app.getHttpServer());

  it('lists events', async () => {
    const { body } = await http().get('/events').expect(200);
    expect(body).toEqual([
      { name: '100m [Final]*', price: 12.5, capacity: 5, sold: 0 },
      { name: 'Womens Judo', price: 20, capacity: null, sold: 0 },
    ]);
  });

  it('refuses a second event of the same name', async () => {
    const { body } = await http().post('/events').set('Authorization', operatorAuth).send({ name: 'Womens Judo', price: 30 }).expect(409);
    expect(body.message).toBe('event "Womens Judo" already exists');
  });

  it("records a purchase in the seed's order hash and announces the bare id on both channels", async () => {
    const before = Math.floor(Date.now() / 1000);
    const { body } = await http().post('/purchases').send({ event: 'Womens Judo', qty: 3, who: 'ann' }).expect(201);
    expect(body).toEqual({ orderId: expect.stringMatching(/^[A-Z][A-Z0-9]{11}$/), event: 'Womens Judo', qty: 3, who: 'ann', cost: 60, ts: expect.any(Number) });
    expect(body.ts).toBeGreaterThanOrEqual(before);
    expect(await redis.hgetall(orderKey(body.orderId))).toEqual({
      order_id: body.orderId, who: 'ann', qty: '3', cost: '60', event: 'Womens Judo', ts: String(body.ts),
    });
    await waitFor(() => announced.filter(([, id]) => id === body.orderId).length === 2, { what: 'two announcements' });
    expect(announced.filter(([, id]) => id === body.orderId)).toEqual([
      [ORDERS_CHANNEL, body.orderId],
      [eventChannel('Womens Judo'), body.orderId],
    ]);
  });

  it('computes the cost in cents: no float error', async () => {
    const { body } = await http().post('/purchases').send({ event: '100m [Final]*', qty: 3, who: 'bo' }).expect(201);
    expect(body.cost).toBe(37.5);
    expect(await redis.hget(orderKey(body.orderId), 'cost')).toBe('37.5');
  });

  it('a retried request with the same Idempotency-Key returns the same order, recorded once', async () => {
    const purchase = { event: 'Womens Judo', qty: 1, who: 'cy' };
    const first = await http().post('/purchases').set('Idempotency-Key', 'retry-1').send(purchase).expect(201);
    const second = await http().post('/purchases').set('Idempotency-Key', 'retry-1').send(purchase).expect(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(announced.filter(([, id]) => id === first.body.orderId).length).toBeLessThanOrEqual(2);
    const orders = await redis.keys('purchase_order_details:*');
    const cyOrders = await Promise.all(orders.map((k) => redis.hget(k, 'who')));
    expect(cyOrders.filter((w) => w === 'cy')).toHaveLength(1);

    const other = await http().post('/purchases').set('Idempotency-Key', 'retry-1').send({ ...purchase, qty: 2 }).expect(422);
    expect(other.body.message).toMatch(/Idempotency-Key/);
  });

  it('sells no more than the capacity', async () => {
    await http().post('/purchases').send({ event: '100m [Final]*', qty: 2, who: 'dee' }).expect(201);
    const { body } = await http().post('/purchases').send({ event: '100m [Final]*', qty: 1, who: 'eve' }).expect(409);
    expect(body.message).toBe('event "100m [Final]*" has 0 ticket(s) left, 1 requested');
  });

  describe('bad requests name the field and write nothing', () => {
    const cases: [string, () => request.Test, number, RegExp][] = [
      ['unknown event', () => http().post('/purchases').send({ event: 'Curling', qty: 1, who: 'x' }), 404, /event "Curling" does not exist/],
      ['qty zero', () => http().post('/purchases').send({ event: 'Womens Judo', qty: 0, who: 'x' }), 400, /qty must not be less than 1/],
      ['qty fractional', () => http().post('/purchases').send({ event: 'Womens Judo', qty: 1.5, who: 'x' }), 400, /qty must be an integer/],
      ['qty as text', () => http().post('/purchases').send({ event: 'Womens Judo', qty: '2', who: 'x' }), 400, /qty must be an integer/],
      ['qty too large', () => http().post('/purchases').send({ event: 'Womens Judo', qty: 101, who: 'x' }), 400, /qty must not be greater than 100/],
      ['who missing', () => http().post('/purchases').send({ event: 'Womens Judo', qty: 1 }), 400, /who should not be empty/],
      ['who blank', () => http().post('/purchases').send({ event: 'Womens Judo', qty: 1, who: '   ' }), 400, /who must not be blank/],
      ['unexpected field', () => http().post('/purchases').send({ event: 'Womens Judo', qty: 1, who: 'x', cost: 0 }), 400, /property cost should not exist/],
      ['body not JSON', () => http().post('/purchases').set('Content-Type', 'application/json').send('{"event": '), 400, /^body is not valid JSON: /],
      ['body too large', () => http().post('/purchases').send({ event: 'Womens Judo', qty: 1, who: 'x'.repeat(20_000) }), 413, /^body is larger than the limit of 16384 bytes$/],
      ['event price negative', () => http().post('/events').set('Authorization', operatorAuth).send({ name: 'Free', price: -1 }), 400, /price must not be less than 0/],
      ['event name blank', () => http().post('/events').set('Authorization', operatorAuth).send({ name: ' ', price: 1 }), 400, /name must not be blank/],
      ['alerts limit', () => http().get('/alerts?limit=0'), 400, /limit must be an integer from 1 to 1000/],
    ];

    it.each(cases)('%s', async (_name, send, status, message) => {
      const keysBefore = (await redis.keys('*')).sort();
      const announcedBefore = announced.length;
      const { body } = await send().expect(status);
      expect([body.message].flat().join("; ")).toMatch(message);
      expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/); // no stack trace
      expect((await redis.keys('*')).sort()).toEqual(keysBefore);
      expect(announced.length).toBe(announcedBefore);
    });
  });
});
