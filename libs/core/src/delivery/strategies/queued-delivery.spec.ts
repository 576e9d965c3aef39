import {
  Keyspace,
  appliedKey,
  listenerStatsKey,
  OUTBOX,
  queuedField,
} from '../../index.js';
import {
  orderKey,
  orderToHash,
  ORDERS_CHANNEL,
  type Order,
  newOrder,
  ORDER,
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
import {
  createMessageEnqueuer,
  GroupQueues,
  jobMessageIds,
  outboxEntry,
} from '../../queues/index.js';
import { createRedis, redisTargetFromUrl } from '@podium/redis';
import { DeliveryMetrics } from '../delivery-metrics.js';
import type { DeliveryOptions } from '../delivery.options.js';
import { EffectApplier } from '../effects/effect-applier.js';
import type { ListenerGroup, RunningListener } from '../listener-group.js';
import { ListenerStats } from '../listener-stats.js';
import { MessageLoader } from '../work/message-loader.js';
import { MessageWork } from '../work/message-work.js';
import { QueuedDelivery } from './queued-delivery.js';

const member = (name: string, group: string): RunningListener => ({
  name,
  pattern: ORDERS_CHANNEL,
  oneSlot: false,
  type: ORDER,
  mode: 'queued',
  group,
  handle: (order: Order) => ({
    writes: [['SADD', `test:${name}`, order.orderId]],
  }),
});
const groupOf = (name: string, ...members: string[]): ListenerGroup => ({
  name,
  type: ORDER,
  mode: 'queued',
  listeners: members.map((m) => member(m, name)),
});

describe('QueuedDelivery', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let logs: CapturedLogger;
  /** The test's look at the queues. */
  let queues: GroupQueues;
  const closing: (() => Promise<unknown>)[] = [];

  /**
   * A listeners process's queued delivery, on its real collaborators: its own command
   * connection, and an MessageEnqueuer whose queues connect to `queueUrl`.
   */
  function listenersProcess(queueUrl = server.url) {
    const env = validatePodiumEnv({
      REDIS_URL: queueUrl,
      QUEUE_ATTEMPTS: '2',
      QUEUE_BACKOFF_MS: '10',
      // BullMQ's stalled check may start its next wait as a worker closes: short, so the test ends at once.
      QUEUE_STALLED_CHECK_MS: '500',
    });
    const options: DeliveryOptions = {
      redisTarget: redisTargetFromUrl(server.url),
      defaultMode: 'queued',
      modeOverrides: {},
      groupOverrides: {},
      maxInFlight: env.MAX_IN_FLIGHT,
      appliedMarkerTtlSeconds: env.APPLIED_MARKER_TTL_SECONDS,
      queue: {
        concurrency: 4,
        attempts: env.QUEUE_ATTEMPTS,
        backoffMs: env.QUEUE_BACKOFF_MS,
        lockMs: env.QUEUE_LOCK_MS,
        stalledCheckMs: env.QUEUE_STALLED_CHECK_MS,
      },
    };
    const shared = createRedis(
      redisTargetFromUrl(server.url),
      'queued-delivery-spec',
    );
    const enqueuer = createMessageEnqueuer(shared, env);
    const work = new MessageWork(
      new MessageLoader(shared),
      new EffectApplier(shared, Keyspace.singleRedis, options),
    );
    const delivery = new QueuedDelivery(
      work,
      new ListenerStats(shared, new DeliveryMetrics()),
      new DeliveryMetrics(),
      enqueuer,
      shared,
      options,
    );
    closing.push(async () => {
      await delivery.close();
      await enqueuer.queues.close();
      await shared.quit();
    });
    return delivery;
  }

  const recorded = async (): Promise<string> => {
    const order: Order = newOrder({ event: 'Womens Judo' });
    await redis.hset(orderKey(order.orderId), orderToHash(order));
    return order.orderId;
  };
  /** Per job in the group's queue, the orders it carries. */
  const jobs = async (group: string): Promise<string[][]> =>
    (await queues.get(group).getJobs(['waiting', 'completed']))
      .sort((a, b) => a.timestamp - b.timestamp)
      .map((job) => jobMessageIds(job.data));
  const heard = (group: ListenerGroup, ...ids: string[]) =>
    ids.map((id) => ({ id, listeners: group.listeners }));

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
    logs = new CapturedLogger();
    Logger.overrideLogger(logs);
    queues = new GroupQueues(() =>
      createRedis(redisTargetFromUrl(server.url), 'queued-delivery-spec-look', {
        autoPipelining: false,
      }),
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

  it('queues a batch in one job for the group, marked queued for it, and resolves once the job exists', async () => {
    const delivery = listenersProcess();
    const group = groupOf('queued', 'steady');
    const ids = [await recorded(), await recorded(), await recorded()];
    await delivery.take(group, heard(group, ...ids));
    expect(await jobs('queued')).toEqual([ids]);
    for (const id of ids)
      expect(await queuedGroups(redis, id)).toEqual(['queued']);
    expect(await redis.exists(OUTBOX)).toBe(0);
    expect(delivery.queueOf(group)).toBe('queued');
  });

  it('queues an order once per group, however many times and by how many processes it is announced', async () => {
    const [one, two] = [listenersProcess(), listenersProcess()];
    const group = groupOf('queued', 'steady');
    const slow = groupOf('slow', 'invoices');
    const [a, b, c] = [await recorded(), await recorded(), await recorded()];
    await Promise.all([
      one.take(group, heard(group, a, b)),
      two.take(group, heard(group, b, c)),
      one.take(group, heard(group, a)),
      two.take(group, heard(group, c, b, a)),
      two.take(slow, heard(slow, a)),
      one.take(slow, heard(slow, a)),
    ]);
    const queued = (await jobs('queued')).flat();
    expect(queued.sort()).toEqual([a, b, c].sort());
    expect(await jobs('slow')).toEqual([[a]]);
    expect(await queuedGroups(redis, a)).toEqual(['queued', 'slow']);
    expect(await redis.exists(OUTBOX)).toBe(0);
  });

  it("adds nothing for an order the box office marked queued for the group; another group's mark does not count", async () => {
    const delivery = listenersProcess();
    const group = groupOf('queued', 'steady');
    const [recordedByBoxOffice, forAnother] = [
      await recorded(),
      await recorded(),
    ];
    await redis.hset(
      appliedKey(recordedByBoxOffice),
      queuedField('queued'),
      '1',
    );
    await redis.hset(appliedKey(forAnother), queuedField('durable'), '1');
    await delivery.take(group, heard(group, recordedByBoxOffice, forAnother));
    expect(await jobs('queued')).toEqual([[forAnother]]);
  });

  it('rejects, without queueing it, what is not an order id', async () => {
    const delivery = listenersProcess();
    const group = groupOf('queued', 'steady');
    const id = await recorded();
    await delivery.take(group, heard(group, 'two words', id));
    expect(await jobs('queued')).toEqual([[id]]);
    expect(await redis.exists(appliedKey('two words'))).toBe(0);
    await waitFor(
      async () =>
        (await redis.hget(listenerStatsKey('steady'), 'rejected')) === '1',
      { what: 'the rejection counted' },
    );
  });

  it('keeps claimed orders whose job Redis refuses in the outbox, and queues them, once, as soon as Redis takes the job', async () => {
    // A user that may not write the queues: its job adds fail with NOPERM until it may.
    await redis.call(
      'ACL',
      'SETUSER',
      'queuer',
      'reset',
      'on',
      '>queuer-password',
      '&*',
      '+@all',
    );
    const delivery = listenersProcess(
      `redis://queuer:queuer-password@127.0.0.1:${server.port}`,
    );
    const group = groupOf('queued', 'steady');
    const ids = [await recorded(), await recorded()];
    const taking = delivery.take(group, heard(group, ...ids));
    await waitFor(
      () =>
        logs.matching(
          '[queued] queueing 2 order(s) failed, trying again: NOPERM',
        ).length === 1,
      { what: 'the refused job add' },
    );
    expect((await redis.zrange(OUTBOX, 0, -1)).sort()).toEqual(
      ids.map((id) => outboxEntry('queued', id)).sort(),
    );
    expect(await jobs('queued')).toEqual([]);

    await redis.call('ACL', 'SETUSER', 'queuer', '~*');
    await taking;
    expect(await jobs('queued')).toEqual([ids]);
    expect(await redis.exists(OUTBOX)).toBe(0);
  });

  it('runs a worker per group from start() to close(): check() names their groups, or the ones that stopped', async () => {
    const delivery = listenersProcess();
    const [first, second] = [
      groupOf('first', 'steady'),
      groupOf('second', 'invoices'),
    ];
    delivery.bind(first);
    delivery.bind(second);
    await delivery.start();
    // A readiness probe: it throws until the workers' connections are up.
    expect(
      await waitFor(() => delivery.check(), { what: 'the workers ready' }),
    ).toEqual(['first', 'second']);
    expect(delivery.queues().map((q) => [q.group, q.queue.name])).toEqual([
      ['first', 'first'],
      ['second', 'second'],
    ]);

    const id = await recorded();
    await delivery.take(second, heard(second, id));
    await waitFor(
      async () => (await redis.hget(appliedKey(id), 'invoices')) === '1',
      { what: "the second group's worker to apply the order" },
    );
    expect(await redis.smembers('test:invoices')).toEqual([id]);

    await delivery.close();
    await expect(delivery.check()).rejects.toThrow(
      'workers not running: first, second',
    );
  });
});
