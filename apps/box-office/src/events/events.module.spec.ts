import { eventKey } from '@podium/orders';
import {
  operatorAuth,
  snapshotKeyspace,
  type HttpModuleTest,
} from '@podium/testing';
import { startBoxOfficeModule } from '../box-office.testing.js';
import { EventsModule } from './events.module.js';

describe('EventsModule: POST /events (operator only), GET /events', () => {
  let box: HttpModuleTest;
  beforeAll(async () => {
    box = await startBoxOfficeModule([EventsModule]);
  });
  afterAll(() => box?.close());

  /** Every key but the clients' rate-limit counts, which POST /events writes before it checks anything. */
  const snapshot = () =>
    snapshotKeyspace(box.redis, { rateLimitCounts: false });
  const create = (body: unknown) =>
    box
      .http()
      .post('/events')
      .set('Authorization', operatorAuth)
      .send(body as object);

  it("creates events in the seed's hash events:<name> and lists them, those other programs created included", async () => {
    await create({ name: 'Womens Judo', price: 20 }).expect(201, {
      name: 'Womens Judo',
      price: 20,
      capacity: null,
      sold: 0,
    });
    await create({ name: '100m [Final]*', price: 12.5, capacity: 5 }).expect(
      201,
    );
    expect(await box.redis.hgetall(eventKey('100m [Final]*'))).toEqual({
      name: '100m [Final]*',
      price: '12.5',
      capacity: '5',
      sold: '0',
    });
    await box.redis.hset(eventKey('Curling'), { name: 'Curling', price: '7' }); // another program's
    const { body } = await box.http().get('/events').expect(200);
    expect(body).toEqual([
      { name: '100m [Final]*', price: 12.5, capacity: 5, sold: 0 },
      { name: 'Curling', price: 7, capacity: null, sold: 0 },
      { name: 'Womens Judo', price: 20, capacity: null, sold: 0 },
    ]);
  });

  it('refuses a second event of the same name (409), and writes nothing', async () => {
    const before = await snapshot();
    const { body } = await create({ name: 'Womens Judo', price: 30 }).expect(
      409,
    );
    expect(body.message).toBe('event "Womens Judo" already exists');
    expect(await snapshot()).toEqual(before);
  });

  it.each([
    [
      'price negative',
      { name: 'Free', price: -1 },
      400,
      /price must not be less than 0/,
    ],
    ['name blank', { name: ' ', price: 1 }, 400, /name must not be blank/],
    [
      'name with a line break',
      { name: 'Judo\nFinal', price: 1 },
      400,
      /name must not contain control characters/,
    ],
    [
      'unexpected field',
      { name: 'Judo', price: 1, sold: 3 },
      400,
      /property sold should not exist/,
    ],
  ])(
    'a bad event (%s) gets a 4xx naming the field, and nothing is written',
    async (_case, body, status, message) => {
      const before = await snapshot();
      const res = await create(body).expect(status);
      expect([res.body.message].flat().join('; ')).toMatch(message);
      expect(await snapshot()).toEqual(before);
    },
  );

  it('without the operator credentials: 401, nothing written', async () => {
    const before = await snapshot();
    await box
      .http()
      .post('/events')
      .send({ name: 'Sneaky', price: 1 })
      .expect(401);
    expect(await snapshot()).toEqual(before);
  });
});
