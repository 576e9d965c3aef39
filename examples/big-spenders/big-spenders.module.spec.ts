import { newOrder, ORDER, type Order, type OrderFields } from '@podium/orders';
import {
  DELIVERY_MODES,
  startListenerModule,
  type ListenerModuleTest,
} from '@podium/testing';
import { BigSpendersModule } from './big-spenders.module.js';

describe.each(DELIVERY_MODES)('big-spenders, %s delivery', (mode) => {
  let listener: ListenerModuleTest<Order, OrderFields>;
  beforeAll(async () => {
    listener = await startListenerModule({
      type: ORDER,
      make: newOrder,
      listeners: [BigSpendersModule],
      mode,
    }); // on a redis-server of its own
  });
  afterAll(() => listener.close());

  it('ranks customers by what they spent in orders of $500 or more', async () => {
    const big = await listener.publish({
      event: 'Womens Judo',
      who: 'ann',
      cost: '600',
    }); // as the box office records it
    const small = await listener.announce({
      event: 'Womens Judo',
      who: 'bob',
      cost: '20',
    }); // as a raw PUBLISH does
    expect(await listener.applied(big)).toEqual({ 'big-spenders': 'applied' });
    expect(await listener.applied(small)).toEqual({
      'big-spenders': 'skipped',
    });
    expect(
      await listener.redis.zrange('big_spenders', 0, -1, 'WITHSCORES'),
    ).toEqual(['ann', '600']);
  });
});
