import type { Redis } from 'ioredis';
import {
  SALES_SUMMARY,
  salesSetKey,
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
import { SalesSummaryModule } from './sales-summary.module.js';

let server: PrivateRedis;
let redis: Redis;
beforeAll(async () => {
  server = await PrivateRedis.start();
  redis = server.client();
});
afterAll(() => server?.destroy());

describe.each(DELIVERY_MODES)('sales-summary, %s delivery', (mode) => {
  let listener: ListenerModuleTest<Order, OrderFields>;
  beforeAll(async () => {
    await redis.flushall();
    listener = await startListenerModule({
      type: ORDER,
      make: newOrder,
      listeners: [SalesSummaryModule],
      mode,
      redis: server,
    });
  });
  afterAll(() => listener?.close());

  it('adds every order to its event: the set sales:<event>, total sales and tickets sold in sales_summary', async () => {
    const orders = [
      await listener.publish({ event: 'Womens Judo', qty: 3, cost: '60' }), // as the box office records it
      await listener.announce({ event: 'Womens Judo', qty: 2, cost: '40.5' }), // the seed's wire format
      await listener.publish({ event: '100m [Final]*', qty: 1, cost: '12.5' }),
    ];
    for (const order of orders)
      expect(await listener.applied(order)).toEqual({
        'sales-summary': 'applied',
      });

    expect(await redis.hgetall(SALES_SUMMARY)).toEqual({
      'Womens Judo:total_sales': '100.5',
      'Womens Judo:total_tickets_sold': '5',
      '100m [Final]*:total_sales': '12.5',
      '100m [Final]*:total_tickets_sold': '1',
    });
    expect((await redis.smembers(salesSetKey('Womens Judo'))).sort()).toEqual(
      [orders[0].orderId, orders[1].orderId].sort(),
    );
    expect(await redis.smembers(salesSetKey('100m [Final]*'))).toEqual([
      orders[2].orderId,
    ]);
  });
});
