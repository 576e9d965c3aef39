import type { RedisClient } from '@podium/redis';
import type request from 'supertest';
import {
  eventChannel,
  eventKey,
  orderKey,
  ORDERS_CHANNEL,
} from '@podium/orders';
import {
  operatorAuth,
  snapshotKeyspace,
  waitFor,
  type HttpModuleTest,
} from '@podium/testing';
import { startBoxOfficeModule } from '../box-office.testing.js';
import { EventsModule } from '../events/events.module.js';
import { PurchasesModule } from './purchases.module.js';

describe('PurchasesModule: POST /purchases records an order once and announces it', () => {
  let box: HttpModuleTest;
  let subscriber: RedisClient;
  const announced: [string, string][] = [];
  const http = () => box.http();

  beforeAll(async () => {
    box = await startBoxOfficeModule([PurchasesModule, EventsModule]);
    subscriber = box.server.client();
    subscriber.on(
      'pmessage',
      (_pattern: string, channel: string, message: string) =>
        announced.push([channel, message]),
    );
    await subscriber.psubscribe(`${ORDERS_CHANNEL}*`);
    // Events are made through the events module's own API.
    await http()
      .post('/events')
      .set('Authorization', operatorAuth)
      .send({ name: 'Womens Judo', price: 20 })
      .expect(201);
    await http()
      .post('/events')
      .set('Authorization', operatorAuth)
      .send({ name: '100m [Final]*', price: 12.5, capacity: 5 })
      .expect(201);
  });
  afterAll(() => box?.close());

  it("records the seed's order hash, counts the tickets sold and announces the bare id on both channels", async () => {
    const before = Math.floor(Date.now() / 1000);
    const { body } = await http()
      .post('/purchases')
      .send({ event: 'Womens Judo', qty: 3, who: 'ann' })
      .expect(201);
    expect(body).toEqual({
      orderId: expect.stringMatching(/^[A-Z][A-Z0-9]{11}$/),
      event: 'Womens Judo',
      qty: 3,
      who: 'ann',
      cost: 60,
      ts: expect.any(Number),
    });
    expect(body.ts).toBeGreaterThanOrEqual(before);
    expect(await box.redis.hgetall(orderKey(body.orderId))).toEqual({
      order_id: body.orderId,
      who: 'ann',
      qty: '3',
      cost: '60',
      event: 'Womens Judo',
      ts: String(body.ts),
    });
    expect(await box.redis.hget(eventKey('Womens Judo'), 'sold')).toBe('3');
    await waitFor(
      () => announced.filter(([, id]) => id === body.orderId).length === 2,
      { what: 'two announcements' },
    );
    expect(announced.filter(([, id]) => id === body.orderId)).toEqual([
      [ORDERS_CHANNEL, body.orderId],
      [eventChannel('Womens Judo'), body.orderId],
    ]);
  });

  it('computes the cost in cents: no float error', async () => {
    const { body } = await http()
      .post('/purchases')
      .send({ event: '100m [Final]*', qty: 3, who: 'bo' })
      .expect(201);
    expect(body.cost).toBe(37.5);
    expect(await box.redis.hget(orderKey(body.orderId), 'cost')).toBe('37.5');
  });

  it('a retried request with the same Idempotency-Key returns the same order, recorded once; another body with that key is 422', async () => {
    const purchase = { event: 'Womens Judo', qty: 1, who: 'cy' };
    const first = await http()
      .post('/purchases')
      .set('Idempotency-Key', 'retry-1')
      .send(purchase)
      .expect(201);
    const second = await http()
      .post('/purchases')
      .set('Idempotency-Key', 'retry-1')
      .send(purchase)
      .expect(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    const whos = await Promise.all(
      (await box.redis.keys('purchase_order_details:*')).map((k) =>
        box.redis.hget(k, 'who'),
      ),
    );
    expect(whos.filter((w) => w === 'cy')).toHaveLength(1);

    const other = await http()
      .post('/purchases')
      .set('Idempotency-Key', 'retry-1')
      .send({ ...purchase, qty: 2 })
      .expect(422);
    expect(other.body.message).toMatch(/Idempotency-Key/);
  });

  it('sells no more than the capacity (409)', async () => {
    await http()
      .post('/purchases')
      .send({ event: '100m [Final]*', qty: 2, who: 'dee' })
      .expect(201);
    const { body } = await http()
      .post('/purchases')
      .send({ event: '100m [Final]*', qty: 1, who: 'eve' })
      .expect(409);
    expect(body.message).toBe(
      'event "100m [Final]*" has 0 ticket(s) left, 1 requested',
    );
  });

  describe('bad requests name the field, and nothing is written or announced', () => {
    const cases: [string, () => request.Test, number, RegExp][] = [
      [
        'unknown event',
        () =>
          http()
            .post('/purchases')
            .send({ event: 'Curling', qty: 1, who: 'x' }),
        404,
        /event "Curling" does not exist/,
      ],
      [
        'qty zero',
        () =>
          http()
            .post('/purchases')
            .send({ event: 'Womens Judo', qty: 0, who: 'x' }),
        400,
        /qty must not be less than 1/,
      ],
      [
        'qty fractional',
        () =>
          http()
            .post('/purchases')
            .send({ event: 'Womens Judo', qty: 1.5, who: 'x' }),
        400,
        /qty must be an integer/,
      ],
      [
        'qty as text',
        () =>
          http()
            .post('/purchases')
            .send({ event: 'Womens Judo', qty: '2', who: 'x' }),
        400,
        /qty must be an integer/,
      ],
      [
        'qty too large',
        () =>
          http()
            .post('/purchases')
            .send({ event: 'Womens Judo', qty: 101, who: 'x' }),
        400,
        /qty must not be greater than 100/,
      ],
      [
        'who missing',
        () => http().post('/purchases').send({ event: 'Womens Judo', qty: 1 }),
        400,
        /who should not be empty/,
      ],
      [
        'who blank',
        () =>
          http()
            .post('/purchases')
            .send({ event: 'Womens Judo', qty: 1, who: '   ' }),
        400,
        /who must not be blank/,
      ],
      [
        'unexpected field',
        () =>
          http()
            .post('/purchases')
            .send({ event: 'Womens Judo', qty: 1, who: 'x', cost: 0 }),
        400,
        /property cost should not exist/,
      ],
      [
        'body not JSON',
        () =>
          http()
            .post('/purchases')
            .set('Content-Type', 'application/json')
            .send('{"event": '),
        400,
        /^body is not valid JSON: /,
      ],
      [
        'body too large',
        () =>
          http()
            .post('/purchases')
            .send({ event: 'Womens Judo', qty: 1, who: 'x'.repeat(20_000) }),
        413,
        /^body is larger than the limit of 16384 bytes$/,
      ],
      [
        'bad Idempotency-Key',
        () =>
          http()
            .post('/purchases')
            .set('Idempotency-Key', 'a b')
            .send({ event: 'Womens Judo', qty: 1, who: 'x' }),
        400,
        /Idempotency-Key header must be/,
      ],
    ];

    it.each(cases)('%s', async (_name, send, status, message) => {
      // Nothing written but the client's rate-limit count: the limit counts bad requests too.
      const snapshot = () =>
        snapshotKeyspace(box.redis, { rateLimitCounts: false });
      const before = await snapshot();
      const announcedBefore = announced.length;
      const { body } = await send().expect(status);
      expect([body.message].flat().join('; ')).toMatch(message);
      expect(JSON.stringify(body)).not.toMatch(/at .*\.(ts|js):\d+/); // no stack trace
      expect(await snapshot()).toEqual(before);
      expect(announced.length).toBe(announcedBefore);
    });
  });
});
