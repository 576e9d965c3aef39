import type { INestApplication, LoggerService, Type } from '@nestjs/common';
import {
  Test,
  type TestingModule,
  type TestingModuleBuilder,
} from '@nestjs/testing';
import type { Redis } from 'ioredis';
import {
  validatePodiumEnv,
  type DeliveryMode,
  ListenerRegistrar,
  ListenerStats,
  PodiumListenersModule,
  PurchaseTransport,
  type ListenerOutcome,
  type RunningListener,
  OrderPublisher,
  PublisherModule,
} from '@podium/core';
import {
  globMatches,
  hearsOrder,
  orderKey,
  ORDERS_CHANNEL,
  type Order,
} from '@podium/orders';
import { announceOrder, newOrder, type OrderFields } from './orders.js';
import { PrivateRedis } from './private-redis.js';
import { testLogger } from './test-logger.js';
import { waitFor } from './wait-for.js';

export interface ListenerModuleOptions {
  /** The listener module(s) under test, alone: no other listener runs. */
  listeners: Type[];
  /** How the module's listeners are delivered (DELIVERY; DELIVERY_<NAME> in env still picks one listener's); ephemeral by default. */
  mode?: DeliveryMode;
  /** A private Redis to share between the tests of a file; without it, one is started and destroyed by close(). */
  redis?: PrivateRedis;
  /** More settings, as environment variables (HISTOGRAM_ENCODING, QUEUE_ATTEMPTS, DELIVERY_<NAME>...). */
  env?: Record<string, string>;
  /** Nest's logger for the app (a CapturedLogger to assert on lines); errors and warnings to the console by default, false for none. */
  logger?: LoggerService | false;
  /** Changes before the module compiles, as with any NestJS test: `(b) => b.overrideProvider(Clock).useValue(clock)`. */
  override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
}

/** What became of an order for one listener: its final outcome, as podium's ListenerStats saw it. */
export interface SeenOutcome {
  listener: string;
  outcome: ListenerOutcome | 'rejected';
}

export interface ListenerModuleTest {
  /** The compiled TestingModule: `module.get(...)` any provider. */
  module: TestingModule;
  /** Its app, subscribed on the Redis transport. */
  app: INestApplication;
  transport: PurchaseTransport;
  /** The private Redis, and a client of it for the test's own reads and writes. */
  server: PrivateRedis;
  redis: Redis;
  /** The listeners running, with their mode, group and pattern. */
  listeners: RunningListener[];
  /** Records an order and announces it the seed's way (HSET, then PUBLISH on both channels), as another program would. */
  announce(fields: OrderFields): Promise<Order>;
  /** Records an order through podium's own OrderPublisher, as the box office does (durable subscriptions get their job first). */
  publish(fields: OrderFields): Promise<Order>;
  /**
   * Waits until every listener of the module that hears the order (its pattern matches one
   * of the order's channels) has a final outcome for it, and returns them by listener:
   * applied, duplicate or skipped (its handler returned null). Throws when one failed or
   * rejected it, or at the deadline.
   */
  applied(
    order: Order | string,
    options?: { timeoutMs?: number },
  ): Promise<Record<string, ListenerOutcome>>;
  /** Every final outcome seen so far for the order, in order (a duplicate announcement adds one). */
  outcomes(orderId: string): SeenOutcome[];
  /** Closes the app (and the Redis the test kit started, if it did). */
  close(): Promise<void>;
}

/**
 * Boots listener modules on their own with @nestjs/testing, the way the listeners process
 * runs them (podium's delivery in the chosen mode, the real Redis transport), on a private
 * Redis, and resolves once they are subscribed: orders announced after this are heard.
 */
export async function startListenerModule(
  options: ListenerModuleOptions,
): Promise<ListenerModuleTest> {
  const server = options.redis ?? (await PrivateRedis.start());
  const owned = !options.redis;
  let app: INestApplication | undefined;
  try {
    const env = validatePodiumEnv({
      ...options.env,
      DELIVERY: options.mode ?? options.env?.DELIVERY ?? 'ephemeral',
      REDIS_URL: server.url,
    });
    let builder = Test.createTestingModule({
      imports: [
        PodiumListenersModule.forRoot({
          env,
          listeners: options.listeners,
        }),
        PublisherModule,
      ],
    }).setLogger(testLogger(options.logger));
    if (options.override) builder = options.override(builder);
    const module = await builder.compile();

    // Outcomes are watched from before init: a queue left from an earlier app is worked as soon as the workers start.
    const seen = new Map<string, SeenOutcome[]>();
    module.get(ListenerStats).observe((listener, orderId, outcome) => {
      const list = seen.get(orderId) ?? [];
      list.push({ listener, outcome });
      seen.set(orderId, list);
    });

    app = module.createNestApplication({ abortOnError: false });
    const transport = module.get(PurchaseTransport);
    // As createListenersApplication: the handlers are bound in onModuleInit, before the transport subscribes.
    app.connectMicroservice(
      { strategy: transport },
      { inheritAppConfig: true },
    );
    await app.init();
    await app.startAllMicroservices();
    await transport.whenSubscribed();

    const running = module.get(ListenerRegistrar).active;
    const redis = server.client();
    const started = app;
    return {
      module,
      app,
      transport,
      server,
      redis,
      listeners: running,
      announce: (fields) => announceOrder(redis, fields),
      publish: async (fields) => {
        const order = newOrder(fields);
        const result = await module.get(OrderPublisher).record(order);
        if (result.outcome !== 'created')
          throw new Error(`order not recorded: ${JSON.stringify(result)}`);
        return order;
      },
      applied: async (order, { timeoutMs = 10_000 } = {}) => {
        const orderId = typeof order === 'string' ? order : order.orderId;
        const event =
          typeof order === 'string'
            ? await redis.hget(orderKey(orderId), 'event')
            : order.event;
        // An order whose event is unknown is heard on the main channel only.
        const hearing = running
          .filter((l) =>
            event === null
              ? globMatches(l.pattern, ORDERS_CHANNEL)
              : hearsOrder(l.pattern, event),
          )
          .map((l) => l.name);
        const firsts = await waitFor(
          () => {
            const outcomes = new Map<string, SeenOutcome['outcome']>();
            for (const { listener, outcome } of seen.get(orderId) ?? [])
              if (!outcomes.has(listener)) outcomes.set(listener, outcome);
            return hearing.every((name) => outcomes.has(name))
              ? outcomes
              : undefined;
          },
          {
            what: `order ${orderId} to be settled by ${hearing.join(', ') || 'no listener'}`,
            timeoutMs,
          },
        );
        const result: Record<string, ListenerOutcome> = {};
        for (const name of hearing) {
          const outcome = firsts.get(name)!;
          if (outcome === 'failed' || outcome === 'rejected')
            throw new Error(
              `order ${orderId}: ${name} ${outcome} it (see the app's log)`,
            );
          result[name] = outcome;
        }
        return result;
      },
      outcomes: (orderId) => [...(seen.get(orderId) ?? [])],
      close: async () => {
        await redis.quit().catch(() => undefined);
        await started.close();
        if (owned) await server.destroy();
      },
    };
  } catch (err) {
    await app?.close().catch(() => undefined); // a failed start must not leave connections open
    if (owned) await server.destroy();
    throw err;
  }
}
