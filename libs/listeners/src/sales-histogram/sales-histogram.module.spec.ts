import type { Redis } from 'ioredis';
import {
  eventHistogramKey,
  HISTOGRAM_ALL_EVENTS,
  ORDER,
  newOrder,
  type Order,
  type OrderFields,
  OlympicsSettings,
} from '@podium/orders';
import {
  DELIVERY_MODES,
  PrivateRedis,
  startListenerModule,
  type ListenerModuleTest,
} from '@podium/testing';
import { SalesHistogramModule } from './sales-histogram.module.js';

let server: PrivateRedis;
let redis: Redis;
beforeAll(async () => {
  server = await PrivateRedis.start();
  redis = server.client();
});
afterAll(() => server?.destroy());

const at = (hour: number, minute = 0) =>
  Date.UTC(2026, 6, 24, hour, minute) / 1000;
/** The u32 counters of hours 0 to 23 (HISTOGRAM_ENCODING=u32, the default). */
const hours = async (key: string): Promise<number[]> =>
  (await redis.call(
    'BITFIELD',
    key,
    ...Array.from({ length: 24 }, (_, h) => ['GET', 'u32', `#${h}`]).flat(),
  )) as number[];
const only = (counts: Record<number, number>) =>
  Array.from({ length: 24 }, (_, h) => counts[h] ?? 0);

describe.each(DELIVERY_MODES)('sales-histogram, %s delivery', (mode) => {
  let listener: ListenerModuleTest<Order, OrderFields>;
  beforeAll(async () => {
    await redis.flushall();
    listener = await startListenerModule({
      type: ORDER,
      make: newOrder,
      listeners: [SalesHistogramModule],
      mode,
      redis: server,
    });
  });
  afterAll(() => listener?.close());

  it("counts tickets per hour of day, from the order's ts in UTC, for all events and per event", async () => {
    const orders = [
      await listener.publish({ event: 'Womens Judo', qty: 3, ts: at(14, 30) }),
      await listener.announce({ event: 'Mens 4x400', qty: 2, ts: at(14, 59) }),
      await listener.publish({ event: 'Womens Judo', qty: 1, ts: at(0, 5) }),
      await listener.announce({ event: 'Womens Judo', qty: 4, ts: at(23, 59) }),
    ];
    for (const order of orders)
      expect(await listener.applied(order)).toEqual({
        'sales-histogram': 'applied',
      });

    expect(await hours(HISTOGRAM_ALL_EVENTS)).toEqual(
      only({ 0: 1, 14: 5, 23: 4 }),
    );
    expect(await hours(eventHistogramKey('Womens Judo'))).toEqual(
      only({ 0: 1, 14: 3, 23: 4 }),
    );
    expect(await hours(eventHistogramKey('Mens 4x400'))).toEqual(
      only({ 14: 2 }),
    );
  });
});

describe('sales-histogram with HISTOGRAM_ENCODING=seed-u8', () => {
  it("writes the seed's layout, u8 at bit offset (hour + 1) * 8, which wraps after 255", async () => {
    await redis.flushall();
    const listener = await startListenerModule({
      type: ORDER,
      make: newOrder,
      listeners: [SalesHistogramModule],
      redis: server,
      override: (builder) =>
        builder.overrideProvider(OlympicsSettings).useValue({
          ...new OlympicsSettings(),
          histogramEncoding: 'seed-u8',
        }),
    });
    try {
      const nine = await listener.announce({
        event: 'Seed',
        qty: 4,
        ts: at(9),
      });
      const wrap = [
        await listener.announce({ event: 'Wrap', qty: 200, ts: at(3) }),
        await listener.announce({ event: 'Wrap', qty: 100, ts: at(3) }),
      ];
      for (const order of [nine, ...wrap]) await listener.applied(order);
      expect(
        await redis.call(
          'BITFIELD',
          eventHistogramKey('Seed'),
          'GET',
          'u8',
          String((9 + 1) * 8),
        ),
      ).toEqual([4]);
      expect(
        await redis.call(
          'BITFIELD',
          eventHistogramKey('Wrap'),
          'GET',
          'u8',
          String((3 + 1) * 8),
        ),
      ).toEqual([300 - 256]);
    } finally {
      await listener.close();
    }
  });
});
