import { Keyspace, appliedKey, OUTBOX } from '../../index.js';
import {
  eventChannel,
  orderKey,
  orderToHash,
  ORDERS_CHANNEL,
  newOrder,
  ORDER,
  type Order,
} from '@podium/orders';
import {
  CapturedLogger,
  PrivateRedis,
  queuedGroups,
  waitFor,
} from '@podium/testing';
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { validatePodiumEnv } from '../../config/index.js';
import { standalonePublisher } from '../../publisher/index.js';
import {
  createMessageEnqueuer,
  GroupQueues,
  jobMessageIds,
  readDurableSubscriptions,
} from '../../queues/index.js';
import { createRedis, redisTargetFromUrl } from '@podium/redis';
import { DeliveryMetrics } from '../delivery-metrics.js';
import type { DeliveryOptions } from '../delivery.options.js';
import { EffectApplier } from '../effects/effect-applier.js';
import type { ListenerGroup, RunningListener } from '../listener-group.js';
import { ListenerStats } from '../listener-stats.js';
import { MessageLoader } from '../work/message-loader.js';
import { MessageWork } from '../work/message-work.js';
import { DurableDelivery } from './durable-delivery.js';

const member = (name: string, pattern: string): RunningListener => ({
  name,
  pattern,
  oneSlot: false,
  type: ORDER,
  mode: 'durable',
  group: 'durable',
  handle: (order: Order) => ({
    writes: [['HINCRBY', `test:${name}`, order.orderId, 1]],
  }),
});

describe('DurableDelivery', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let queues: GroupQueues;
  const closing: (() => Promise<unknown>)[] = [];
  const env = () =>
    validatePodiumEnv({
      REDIS_URL: server.url,
      QUEUE_ATTEMPTS: '2',
      QUEUE_BACKOFF_MS: '10',
      // BullMQ's stalled check may start its next wait as a worker closes: short, so the test ends at once.
      QUEUE_STALLED_CHECK_MS: '500',
    });

  /** A listeners process's durable delivery for `group`, on its real collaborators, started. */
  async function listenersProcess(
    group: ListenerGroup,
  ): Promise<DurableDelivery> {
    const config = env();
    const options: DeliveryOptions = {
      redisTarget: redisTargetFromUrl(server.url),
      defaultMode: 'durable',
      modeOverrides: {},
      groupOverrides: {},
      maxInFlight: config.MAX_IN_FLIGHT,
      appliedMarkerTtlSeconds: config.APPLIED_MARKER_TTL_SECONDS,
      queue: {
        concurrency: 4,
        attempts: config.QUEUE_ATTEMPTS,
        backoffMs: config.QUEUE_BACKOFF_MS,
        lockMs: config.QUEUE_LOCK_MS,
        stalledCheckMs: config.QUEUE_STALLED_CHECK_MS,
      },
    };
    const shared = createRedis(
      redisTargetFromUrl(server.url),
      'durable-delivery-spec',
    );
    const enqueuer = createMessageEnqueuer(shared, config);
    const delivery = new DurableDelivery(
      new MessageWork(
        new MessageLoader(shared),
        new EffectApplier(shared, Keyspace.singleRedis, options),
      ),
      new ListenerStats(shared, new DeliveryMetrics()),
      new DeliveryMetrics(),
      enqueuer,
      shared,
      options,
    );
    delivery.bind(group);
    await delivery.start();
    closing.push(async () => {
      await delivery.close();
      await enqueuer.queues.close();
      await shared.quit();
    });
    return delivery;
  }

  /** How many of the durable group's jobs carry each order. */
  async function jobsCarrying(): Promise<Map<string, number>> {
    const jobs = await queues
      .get('durable')
      .getJobs(['waiting', 'active', 'completed', 'delayed', 'failed']);
    const counts = new Map<string, number>();
    for (const id of jobs.flatMap((job) => jobMessageIds(job.data)))
      counts.set(id, (counts.get(id) ?? 0) + 1);
    return counts;
  }

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
    Logger.overrideLogger(new CapturedLogger());
    queues = new GroupQueues(() =>
      createRedis(
        redisTargetFromUrl(server.url),
        'durable-delivery-spec-look',
        {
          autoPipelining: false,
        },
      ),
    );
  });
  beforeEach(() => redis.flushall());
  afterEach(async () => {
    for (const close of closing.splice(0)) await close();
  });
  afterAll(async () => {
    await queues.close();
    await server.destroy();
  });

  it("registers the group's durable subscription as it starts, each pattern once, keeping the date it was first registered", async () => {
    const group: ListenerGroup = {
      name: 'durable',
      type: ORDER,
      mode: 'durable',
      listeners: [
        member('summary', ORDERS_CHANNEL),
        member('invoices', ORDERS_CHANNEL),
      ],
    };
    await listenersProcess(group);
    const [first] = await readDurableSubscriptions(redis);
    expect(first).toEqual({
      group: 'durable',
      listeners: ['summary', 'invoices'],
      patterns: [ORDERS_CHANNEL],
      since: expect.any(Number),
    });

    // A later process runs one more listener in the group.
    group.listeners.push(member('judo', eventChannel('Womens Judo')));
    await listenersProcess(group);
    expect(await readDurableSubscriptions(redis)).toEqual([
      {
        group: 'durable',
        listeners: ['summary', 'invoices', 'judo'],
        patterns: [ORDERS_CHANNEL, eventChannel('Womens Judo')],
        since: first.since,
      },
    ]);
  });

  it('an order the publisher recorded while no listeners process ran waits in the queue, is applied once one runs, and its announcement adds nothing', async () => {
    const summary = member('summary', ORDERS_CHANNEL);
    const group: ListenerGroup = {
      name: 'durable',
      type: ORDER,
      mode: 'durable',
      listeners: [summary],
    };
    // A process registers the subscription, then stops.
    await listenersProcess(group);
    for (const close of closing.splice(0)) await close();

    const { publisher, close } = standalonePublisher(redis, env());
    const order = newOrder({ event: 'Womens Judo' });
    try {
      expect((await publisher.publish(ORDER, order)).outcome).toBe('created');
    } finally {
      await close();
    }
    expect(await queuedGroups(redis, order.orderId)).toEqual(['durable']);
    expect(await jobsCarrying()).toEqual(new Map([[order.orderId, 1]]));

    const delivery = await listenersProcess(group);
    await delivery.take(group, [{ id: order.orderId, listeners: [summary] }]);
    await waitFor(
      async () =>
        (await redis.hget(appliedKey(order.orderId), 'summary')) === '1',
      { what: 'the recorded order applied' },
    );
    expect(await jobsCarrying()).toEqual(new Map([[order.orderId, 1]]));
    expect(await redis.hget('test:summary', order.orderId)).toBe('1');
    expect(await redis.exists(OUTBOX)).toBe(0);
  });

  it('an order announced by a program that did not queue it (a raw PUBLISH) is claimed and queued once', async () => {
    const summary = member('summary', ORDERS_CHANNEL);
    const group: ListenerGroup = {
      name: 'durable',
      type: ORDER,
      mode: 'durable',
      listeners: [summary],
    };
    const delivery = await listenersProcess(group);
    const raw = newOrder({ event: 'Womens Judo' });
    await redis.hset(orderKey(raw.orderId), orderToHash(raw));
    const heard = [{ id: raw.orderId, listeners: [summary] }];
    // Heard on both channels, in two reads.
    await delivery.take(group, heard);
    await delivery.take(group, heard);
    await waitFor(
      async () => (await redis.hget('test:summary', raw.orderId)) === '1',
      { what: 'the raw order applied' },
    );
    expect(await jobsCarrying()).toEqual(new Map([[raw.orderId, 1]]));
  });
});
