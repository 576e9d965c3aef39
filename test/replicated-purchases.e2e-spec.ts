import { eventKey, orderKey } from '@podium/orders';
import {
  operatorAuth,
  PrivateRedis,
  waitFor,
  type HttpModuleTest,
} from '@podium/testing';
import { startBoxOfficeModule } from '../apps/box-office/src/box-office.testing.js';
import { EventsModule } from '../apps/box-office/src/events/events.module.js';
import { PurchasesModule } from '../apps/box-office/src/purchases/purchases.module.js';
import { sample } from './support/metrics.js';

/*
 * REDIS_WAIT_REPLICAS=1 on a primary that has no replica yet: a purchase is recorded but
 * answers 503 saying so; once a replica has it, the retry with the same Idempotency-Key
 * answers 201 with that order, bought once.
 */
describe('POST /purchases with REDIS_WAIT_REPLICAS=1', () => {
  let primary: PrivateRedis;
  let replica: PrivateRedis | undefined;
  let box: HttpModuleTest;
  const buy = (key?: string) => {
    const req = box.http().post('/purchases');
    if (key) req.set('Idempotency-Key', key);
    return req.send({ event: 'Womens Judo', qty: 2, who: 'ann' });
  };

  beforeAll(async () => {
    primary = await PrivateRedis.start();
    box = await startBoxOfficeModule([PurchasesModule, EventsModule], {
      redis: primary,
      env: { REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '100' },
      logger: false,
    });
    await box
      .http()
      .post('/events')
      .set('Authorization', operatorAuth)
      .send({ name: 'Womens Judo', price: 20 })
      .expect(201);
  });
  afterAll(async () => {
    await box?.close();
    await Promise.all([primary?.destroy(), replica?.destroy()]);
  });

  it('answers 503 while no replica confirms it, the order stands, and the retry with its key answers 201 once a replica has it', async () => {
    const refused = await buy('ann-1').expect(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: expect.stringMatching(
        /^The order is recorded on the primary but not yet on its replicas: a retry with the same Idempotency-Key is safe/,
      ),
    });
    expect(await box.redis.hget(eventKey('Womens Judo'), 'sold')).toBe('2');
    const metrics = await box.http().get('/metrics').expect(200);
    expect(
      sample(metrics.text, 'podium_purchases_unreplicated_total', {
        stage: 'record',
        reason: 'too-few-replicas',
      }),
    ).toBe(1);
    await buy('ann-1').expect(503); // a replay is confirmed too

    replica = await PrivateRedis.start({ replicaOf: primary });
    await replica.waitForSync();
    // As a client would: again with the key while the replica catches up.
    const bought = await waitFor(
      async () => {
        const res = await buy('ann-1');
        return res.status === 201 ? res : undefined;
      },
      { what: 'the retry to be answered 201', timeoutMs: 5000 },
    );
    expect(bought.headers['idempotent-replayed']).toBe('true');
    expect(await box.redis.hget(eventKey('Womens Judo'), 'sold')).toBe('2');
    expect(
      await replica.call('HGET', orderKey(bought.body.orderId), 'qty'),
    ).toBe('2');

    const fresh = await buy().expect(201);
    expect(await replica.call('EXISTS', orderKey(fresh.body.orderId))).toBe(1);
  });
});
