import type { Redis } from 'ioredis';
import {
  ALERTS,
  OPENING_CEREMONY,
  ORDER,
  newOrder,
  type Order,
  type OrderFields,
  OlympicsSettings,
} from '@podium/orders';
import {
  CapturedLogger,
  DELIVERY_MODES,
  PrivateRedis,
  startListenerModule,
  type ListenerModuleTest,
} from '@podium/testing';
import type { Alert } from './event-alerts.listener.js';
import { EventAlertsModule } from './event-alerts.module.js';

let server: PrivateRedis;
let redis: Redis;
beforeAll(async () => {
  server = await PrivateRedis.start();
  redis = server.client();
});
afterAll(() => server?.destroy());

describe.each(DELIVERY_MODES)('event-alerts, %s delivery', (mode) => {
  let listener: ListenerModuleTest<Order, OrderFields>;
  const logs = new CapturedLogger();
  beforeAll(async () => {
    await redis.flushall();
    listener = await startListenerModule({
      type: ORDER,
      make: newOrder,
      listeners: [EventAlertsModule],
      mode,
      redis: server,
      logger: logs,
      override: (builder) =>
        builder
          .overrideProvider(OlympicsSettings)
          .useValue({ ...new OlympicsSettings(), alertsMax: 3 }),
    });
  });
  afterAll(() => listener?.close());

  it('alerts on every order but Opening Ceremony ones: logged, and kept newest first in list alerts, capped at ALERTS_MAX', async () => {
    const orders = [];
    for (const [i, event] of [
      'Womens Judo',
      'Mens 4x400',
      '100m [Final]*',
      'Closing Ceremony',
    ].entries()) {
      // One at a time: the list is newest first in the order the alerts are applied.
      const order =
        i % 2
          ? await listener.announce({
              event,
              qty: i + 1,
              cost: `${20 * (i + 1)}`,
            })
          : await listener.publish({
              event,
              qty: i + 1,
              cost: `${20 * (i + 1)}`,
            });
      expect(await listener.applied(order)).toEqual({
        'event-alerts': 'applied',
      });
      orders.push(order);
    }
    const ceremony = await listener.publish({ event: OPENING_CEREMONY });
    expect(await listener.applied(ceremony)).toEqual({
      'event-alerts': 'skipped',
    }); // heard (purchase_orders:*), left out in code

    const alerts = (await redis.lrange(ALERTS, 0, -1)).map(
      (json) => JSON.parse(json) as Alert,
    );
    expect(alerts).toEqual(
      orders
        .slice(1)
        .reverse()
        .map((o) => ({
          orderId: o.orderId,
          event: o.event,
          qty: o.qty,
          cost: o.cost,
          ts: o.ts,
          message: `Purchase ${o.event}: #${o.qty} $${o.cost}`,
        })),
    );
    expect(logs.matching('Purchase ')).toEqual(
      orders.map(
        (o) => `log [EventAlerts] Purchase ${o.event}: #${o.qty} $${o.cost}`,
      ),
    );
  });
});
