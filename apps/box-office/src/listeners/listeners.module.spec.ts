import { newOrder, ORDER, type Order, type OrderFields } from '@podium/orders';
import { CustomerInvoicesModule } from '@podium/listeners';
import {
  DELIVERY_MODES,
  operatorAuth,
  PrivateRedis,
  startListenerModule,
  type HttpModuleTest,
  type ListenerModuleTest,
} from '@podium/testing';
import { startBoxOfficeModule } from '../box-office.testing.js';
import { ListenersModule } from './listeners.module.js';

/** The box office's listeners API, reading what a listener module running in each mode announced in Redis. */
describe.each(DELIVERY_MODES)(
  'ListenersModule: GET /listeners, with a listener in %s delivery',
  (mode) => {
    let server: PrivateRedis;
    let listener: ListenerModuleTest<Order, OrderFields>;
    let box: HttpModuleTest;

    beforeAll(async () => {
      server = await PrivateRedis.start();
      listener = await startListenerModule({
        type: ORDER,
        make: newOrder,
        listeners: [CustomerInvoicesModule],
        mode,
        redis: server,
      });
      box = await startBoxOfficeModule([ListenersModule], { redis: server });
    });
    afterAll(async () => {
      await box?.close();
      await listener?.close();
      await server?.destroy();
    });

    it('shows each listener with its mode, group, durable subscription, counters and queue depth', async () => {
      for (let i = 0; i < 3; i++)
        await listener.applied(
          await listener.publish({ event: 'Womens Judo' }),
        );
      const { body } = await box.http().get('/listeners').expect(200);
      expect(body).toEqual([
        {
          name: 'customer-invoices',
          mode,
          group: mode,
          pattern: 'purchase_orders',
          durableSubscription: mode === 'durable',
          // Published through the box office's publisher: announced to it, applied, nothing missing.
          counts: {
            announced: 3,
            applied: 3,
            skipped: 0,
            duplicates: 0,
            rejected: 0,
            failed: 0,
            lost: 0,
          },
          lag: 0,
          lost: 0,
          queue:
            mode === 'ephemeral'
              ? null
              : {
                  waiting: 0,
                  active: 0,
                  delayed: 0,
                  failed: 0,
                  oldestWaitingMs: null,
                },
        },
      ]);
    });

    it("a listener's failed orders are for the operator only; 404 for a listener that never ran here", async () => {
      await box.http().get('/listeners/customer-invoices/failed').expect(401);
      await box
        .http()
        .get('/listeners/customer-invoices/failed')
        .set('Authorization', operatorAuth)
        .expect(200, []);
      await box
        .http()
        .post('/listeners/customer-invoices/failed/retry')
        .set('Authorization', operatorAuth)
        .expect(200, { retried: 0 });
      const { body } = await box
        .http()
        .get('/listeners/nobody/failed')
        .set('Authorization', operatorAuth)
        .expect(404);
      expect(body.message).toBe(
        'no listener "nobody" has run against this Redis',
      );
    });
  },
);
