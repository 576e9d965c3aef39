import type { Redis } from 'ioredis';
import {
  invoicesKey,
  ORDER,
  newOrder,
  type Order,
  type OrderFields,
} from '@podium/orders';
import {
  DELIVERY_MODES,
  PrivateRedis,
  startListenerModule,
  type ListenerModuleTest,
} from '@podium/testing';
import { CustomerInvoicesModule } from './customer-invoices.module.js';

let server: PrivateRedis;
let redis: Redis;
beforeAll(async () => {
  server = await PrivateRedis.start();
  redis = server.client();
});
afterAll(() => server?.destroy());

describe.each(DELIVERY_MODES)('customer-invoices, %s delivery', (mode) => {
  let listener: ListenerModuleTest<Order, OrderFields>;
  beforeAll(async () => {
    await redis.flushall();
    listener = await startListenerModule({
      type: ORDER,
      make: newOrder,
      listeners: [CustomerInvoicesModule],
      mode,
      redis: server,
    });
  });
  afterAll(() => listener?.close());

  it("keeps each customer's order ids in invoices:<who>, whatever the event", async () => {
    const ann = [
      await listener.publish({ event: 'Womens Judo', who: 'ann' }),
      await listener.announce({ event: 'Opening Ceremony', who: 'ann' }),
    ];
    const bob = await listener.announce({ event: 'Mens 4x400', who: 'bob' });
    const cafe = await listener.publish({
      event: 'Womens Judo',
      who: 'Zoë [café]*',
    });
    for (const order of [...ann, bob, cafe])
      expect(await listener.applied(order)).toEqual({
        'customer-invoices': 'applied',
      });

    expect((await redis.smembers(invoicesKey('ann'))).sort()).toEqual(
      ann.map((o) => o.orderId).sort(),
    );
    expect(await redis.smembers(invoicesKey('bob'))).toEqual([bob.orderId]);
    expect(await redis.smembers(invoicesKey('Zoë [café]*'))).toEqual([
      cafe.orderId,
    ]);
  });
});
