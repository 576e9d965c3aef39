import { Injectable, Module } from '@nestjs/common';
import type { Registry } from 'prom-client';
import {
  appliedKey,
  defineMessageType,
  type Effects,
  METRICS_REGISTRY,
  OnMessage,
} from '@podium/core';
import { PrivateRedis } from './private-redis.js';
import { startListenerModule } from './listener-module.js';
import { waitFor } from './wait-for.js';

/** What the listener below asks for its rate; a test replaces it with overrideProvider. */
@Injectable()
class ExchangeRates {
  rate(): number {
    return 1;
  }
}

/** A sale in dollars, announced on channel `sales`. */
interface Sale {
  id: string;
  who: string;
  dollars: number;
}
const SALE = defineMessageType<Sale>()({
  name: 'sale',
  idField: 'id',
  recordKeyPrefix: 'sale:',
  toHash: ({ id, who, dollars }) => ({ id, who, dollars: String(dollars) }),
  fromHash: (id, hash) => ({
    id,
    who: hash.who,
    dollars: Number(hash.dollars),
  }),
  channels: () => ['sales'],
});
/** A sale with defaults for what a test does not care about. */
const sale = (fields: Partial<Sale>): Sale => ({
  id: '',
  who: 'tester',
  dollars: 10,
  ...fields,
});

@Injectable()
class EuroSalesListener {
  constructor(private readonly rates: ExchangeRates) {}

  @OnMessage(SALE, { listener: 'euro-sales', channel: 'sales' })
  onSale(sale: Sale): Effects {
    if (sale.who === 'broken') throw new Error('no rate for broken');
    return {
      writes: [
        ['INCRBYFLOAT', 'test:euro-sales', sale.dollars * this.rates.rate()],
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
      type: SALE,
      make: sale,
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
      ).toEqual([{ name: 'euro-sales', mode: 'ephemeral', pattern: 'sales' }]);
      await listener.applied(await listener.announce({ dollars: 30 }));
      expect(await listener.redis.get('test:euro-sales')).toBe('15');
    } finally {
      await listener.close();
    }
  });

  it('durable: publish() goes through the MessagePublisher, which queues the message as it records it; applied() names a listener that failed', async () => {
    const listener = await startListenerModule({
      type: SALE,
      make: sale,
      listeners: [EuroSalesModule],
      mode: 'durable',
      redis: server,
      env: { QUEUE_ATTEMPTS: '1' },
      logger: false,
    });
    try {
      const published = await listener.publish({ dollars: 10 });
      await listener.applied(published);
      expect(
        await listener.redis.hget(appliedKey(published.id), 'queued:durable'),
      ).toBe('1');
      // The publisher adds the job after its answer, so it may count it after the apply.
      const enqueued = await waitFor(
        async () => {
          const metric = await listener.module
            .get<Registry>(METRICS_REGISTRY)
            .getSingleMetric('podium_durable_orders_enqueued_total')!
            .get();
          return metric.values.length > 0 ? metric : undefined;
        },
        { what: 'the publisher to count the job it added' },
      );
      expect(enqueued.values).toEqual([
        { labels: { group: 'durable' }, value: 1 },
      ]); // by the publisher, as it recorded it
      const broken = await listener.publish({ who: 'broken' });
      await expect(listener.applied(broken)).rejects.toThrow(
        `sale ${broken.id}: euro-sales failed it`,
      );
    } finally {
      await listener.close();
    }
  });

  it('without a Redis of the test, starts a private one and stops it on close', async () => {
    const listener = await startListenerModule({
      type: SALE,
      make: sale,
      listeners: [EuroSalesModule],
    });
    const { port } = listener.server;
    await listener.close();
    expect(port).not.toBe(server.port);
    await expect(listener.redis.ping()).rejects.toThrow();
  });
});
