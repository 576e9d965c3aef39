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
  type IdField,
  ListenerRegistrar,
  ListenerStats,
  MessagePublisher,
  type MessageType,
  newMessageId,
  PodiumListenersModule,
  PublisherModule,
  AnnouncementTransport,
  type ListenerOutcome,
  type RunningListener,
  type Unpublished,
} from '@podium/core';
import { announceMessage } from './messages.js';
import { PrivateRedis } from './private-redis.js';
import { testLogger } from './test-logger.js';
import { waitFor } from './wait-for.js';

export interface ListenerModuleOptions<
  T,
  K extends IdField<T> = IdField<T>,
  F = Unpublished<T, K>,
> {
  /** The listener module(s) under test, alone: no other listener runs. */
  listeners: Type[];
  /** The type of the messages the test announces and publishes. */
  type: MessageType<T, K>;
  /**
   * Makes a message from what a test gives announce() and publish() (defaults for the
   * fields a test does not care about). Without it they take whole messages; an id left
   * out is made.
   */
  make?: (fields: F) => Unpublished<T, K>;
  /** How the module's listeners are delivered (DELIVERY; DELIVERY_<NAME> in env still picks one listener's); ephemeral by default. */
  mode?: DeliveryMode;
  /** A private Redis to share between the tests of a file; without it, one is started and destroyed by close(). */
  redis?: PrivateRedis;
  /** More settings, as environment variables (QUEUE_ATTEMPTS, DELIVERY_<NAME>...). */
  env?: Record<string, string>;
  /** Nest's logger for the app (a CapturedLogger to assert on lines); errors and warnings to the console by default, false for none. */
  logger?: LoggerService | false;
  /** Changes before the module compiles, as with any NestJS test: `(b) => b.overrideProvider(Clock).useValue(clock)`. */
  override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
}

/** What became of a message for one listener: its final outcome, as podium's ListenerStats saw it. */
export interface SeenOutcome {
  listener: string;
  outcome: ListenerOutcome | 'rejected';
}

export interface ListenerModuleTest<T, F> {
  /** The compiled TestingModule: `module.get(...)` any provider. */
  module: TestingModule;
  /** Its app, subscribed on the Redis transport. */
  app: INestApplication;
  transport: AnnouncementTransport;
  /** The private Redis, and a client of it for the test's own reads and writes. */
  server: PrivateRedis;
  redis: Redis;
  /** The listeners running, with their mode, group and pattern. */
  listeners: RunningListener[];
  /** Records a message and announces it on its channels (HSET, then PUBLISH), as another program would. */
  announce(fields: F): Promise<T>;
  /** Records a message through podium's own MessagePublisher, as a publishing app does (durable subscriptions get their job first). */
  publish(fields: F): Promise<T>;
  /**
   * Waits until every listener of the module that hears the message (its pattern matches
   * one of the message's channels) has a final outcome for it, and returns them by
   * listener: applied, duplicate or skipped (its handler returned null). Throws when one
   * failed or rejected it, or at the deadline. Given an id alone, the message is read
   * from Redis; a message that is not there is heard by the listeners of any channel.
   */
  applied(
    message: T | string,
    options?: { timeoutMs?: number },
  ): Promise<Record<string, ListenerOutcome>>;
  /** Every final outcome seen so far for the message, in order (a duplicate announcement adds one). */
  outcomes(id: string): SeenOutcome[];
  /** Closes the app (and the Redis the test kit started, if it did). */
  close(): Promise<void>;
}

/**
 * Boots listener modules on their own with @nestjs/testing, the way the listeners process
 * runs them (podium's delivery in the chosen mode, the real Redis transport), on a private
 * Redis, and resolves once they are subscribed: orders announced after this are heard.
 */
export async function startListenerModule<
  T,
  K extends IdField<T> = IdField<T>,
  F = Unpublished<T, K>,
>(options: ListenerModuleOptions<T, K, F>): Promise<ListenerModuleTest<T, F>> {
  const { type } = options;
  const make =
    options.make ?? ((fields: F) => fields as unknown as Unpublished<T, K>);
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
    const transport = module.get(AnnouncementTransport);
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
      announce: (fields) => {
        const message = make(fields);
        const id = message[type.definition.idField as keyof typeof message];
        return announceMessage(
          redis,
          type,
          type.withId(
            message,
            typeof id === 'string' && id ? id : newMessageId(),
          ),
        );
      },
      publish: async (fields) => {
        const result = await module
          .get(MessagePublisher)
          .publish(type, make(fields));
        if (result.outcome !== 'created')
          throw new Error(
            `${type.name} not recorded: ${JSON.stringify(result)}`,
          );
        return result.message;
      },
      applied: async (message, { timeoutMs = 10_000 } = {}) => {
        const orderId =
          typeof message === 'string' ? message : type.idOf(message);
        const known =
          typeof message === 'string'
            ? await readMessage(redis, type, orderId)
            : message;
        const hearing = running
          .filter((l) => known === undefined || type.hears(l.pattern, known))
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
            what: `${type.name} ${orderId} to be settled by ${hearing.join(', ') || 'no listener'}`,
            timeoutMs,
          },
        );
        const result: Record<string, ListenerOutcome> = {};
        for (const name of hearing) {
          const outcome = firsts.get(name)!;
          if (outcome === 'failed' || outcome === 'rejected')
            throw new Error(
              `${type.name} ${orderId}: ${name} ${outcome} it (see the app's log)`,
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

/** The message stored under an id, or undefined when there is none or it is not readable. */
async function readMessage<T, K extends IdField<T>>(
  redis: Redis,
  type: MessageType<T, K>,
  id: string,
): Promise<T | undefined> {
  const hash = await redis.hgetall(type.recordKey(id));
  if (Object.keys(hash).length === 0) return undefined;
  try {
    return type.fromHash(id, hash);
  } catch {
    return undefined;
  }
}
