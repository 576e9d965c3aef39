import { Injectable, Module } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { OnPurchase, type Effects, METRICS_REGISTRY } from '@podium/core';
import { appliedKey, ORDERS_CHANNEL, type Order } from '@podium/orders';
import { PrivateRedis } from './private-redis.js';
import { startListenerModule } from './listener-module.js';

/** What the listener below asks for its rate; a test replaces it with overrideProvider. */
@Injectable()
class ExchangeRates {
  rate(): number {
    return 1;
  }
}

@Injectable()
class EuroSalesListener {
  constructor(private readonly rates: ExchangeRates) {}

  @OnPurchase({ listener: 'euro-sales', channel: ORDERS_CHANNEL })
  onPurchase(order: Order): Effects {
    if (order.who === 'broken') throw new Error('no rate for broken');
    return {
      writes: [
        [
          'INCRBYFLOAT',
          'test:euro-sales',
          Number(order.cost) * this.rates.rate(),
        ],
      ],
    };
  }
}

@Module({ providers: [EuroSalesListener, ExchangeRates] })
class EuroSalesModule {}

describe('startListenerModule', () => {
  let server: PrivateRedis;
  beforeAll(async () => {
    server = await PrivateRedis.start();
  });
  afterAll(() => server?.destroy());

  it('compiles a TestingModule whose providers can be overridden, as in any NestJS test', async () => {
    const listener = await startListenerModule({
      listeners: [EuroSalesModule],
      redis: server,
      override: (builder) =>
        builder.overrideProvider(ExchangeRates).useValue({ rate: () => 0.5 }),
    });
    try {
      expect(listener.module.get(ExchangeRates).rate()).toBe(0.5);
      expect(
        listener.listeners.map(({ name, mode, pattern }) => ({
          name,
          mode,
          pattern,
        })),
      ).toEqual([
        { name: 'euro-sales', mode: 'ephemeral', pattern: ORDERS_CHANNEL },
      ]);
      await listener.applied(
        await listener.announce({ event: 'Womens Judo', cost: '30' }),
      );
      expect(await listener.redis.get('test:euro-sales')).toBe('15');
    } finally {
      await listener.close();
    }
  });

  it('durable: publish() goes through the OrderPublisher, which queues the order as it records it; applied() names a listener that failed', async () => {
    const listener = await startListenerModule({
      listeners: [EuroSalesModule],
      mode: 'durable',
      redis: server,
      env: { QUEUE_ATTEMPTS: '1' },
      logger: false,
    });
    try {
      const order = await listener.publish({
        event: 'Womens Judo',
        cost: '10',
      });
      await listener.applied(order);
      expect(
        await listener.redis.hget(appliedKey(order.orderId), 'queued:durable'),
      ).toBe('1');
      const enqueued = await listener.module
        .get<Registry>(METRICS_REGISTRY)
        .getSingleMetric('podium_durable_orders_enqueued_total')!
        .get();
      expect(enqueued.values).toEqual([
        { labels: { group: 'durable' }, value: 1 },
      ]); // by the publisher, as it recorded it
      const broken = await listener.publish({
        event: 'Womens Judo',
        who: 'broken',
      });
      await expect(listener.applied(broken)).rejects.toThrow(
        `order ${broken.orderId}: euro-sales failed it`,
      );
    } finally {
      await listener.close();
    }
  });

  it('without a Redis of the test, starts a private one and stops it on close', async () => {
    const listener = await startListenerModule({
      listeners: [EuroSalesModule],
    });
    const { port } = listener.server;
    await listener.close();
    expect(port).not.toBe(server.port);
    await expect(listener.redis.ping()).rejects.toThrow();
  });
});
