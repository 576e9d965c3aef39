import type { Redis } from 'ioredis';
import {
  LOTTERY_WINNERS,
  OPENING_CEREMONY,
  SALES_SUMMARY,
  ORDER,
  newOrder,
  type Order,
  type OrderFields,
} from '@podium/orders';
import {
  CapturedLogger,
  DELIVERY_MODES,
  PrivateRedis,
  startListenerModule,
  type ListenerModuleTest,
} from '@podium/testing';
import { LOTTERY_EVERY_NTH_ORDER } from './opening-ceremony-lottery.listener.js';
import { OpeningCeremonyLotteryModule } from './opening-ceremony-lottery.module.js';

let server: PrivateRedis;
let redis: Redis;
beforeAll(async () => {
  server = await PrivateRedis.start();
  redis = server.client();
});
afterAll(() => server?.destroy());

describe.each(DELIVERY_MODES)(
  'opening-ceremony-lottery, %s delivery',
  (mode) => {
    let listener: ListenerModuleTest<Order, OrderFields>;
    const logs = new CapturedLogger();
    beforeAll(async () => {
      await redis.flushall();
      listener = await startListenerModule({
        type: ORDER,
        make: newOrder,
        listeners: [OpeningCeremonyLotteryModule],
        mode,
        redis: server,
        logger: logs,
      });
    });
    afterAll(() => listener?.close());

    it('counts Opening Ceremony orders; every 5th wins, is recorded in lottery:winners and logged; other events are never heard', async () => {
      const judo = await listener.publish({ event: 'Womens Judo' });
      const orders = [];
      for (let i = 0; i < 2 * LOTTERY_EVERY_NTH_ORDER; i++) {
        // One at a time: "every 5th" is in the order they are applied, which a queue's workers do not keep.
        const order =
          i % 2
            ? await listener.announce({
                event: OPENING_CEREMONY,
                who: `fan${i}`,
              })
            : await listener.publish({
                event: OPENING_CEREMONY,
                who: `fan${i}`,
              });
        expect(await listener.applied(order)).toEqual({
          'opening-ceremony-lottery': 'applied',
        });
        orders.push(order);
      }
      const winners = [orders[4].orderId, orders[9].orderId];

      expect(
        await redis.hget(SALES_SUMMARY, 'Opening Ceremony:total_orders'),
      ).toBe('10');
      expect(await redis.lrange(LOTTERY_WINNERS, 0, -1)).toEqual(winners);
      expect(
        logs.matching('===> Winner!!!!! Opening Ceremony Lottery - Order Id: '),
      ).toEqual(
        winners.map(
          (id) =>
            `log [OpeningCeremonyLottery] ===> Winner!!!!! Opening Ceremony Lottery - Order Id: ${id}`,
        ),
      );
      expect(await listener.applied(judo)).toEqual({}); // its channel is not the lottery's
      expect(listener.outcomes(judo.orderId)).toEqual([]);
    });
  },
);
