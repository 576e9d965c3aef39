import { Keyspace, appliedKey, listenerStatsKey } from '../../index.js';
import {
  eventChannel,
  orderKey,
  orderToHash,
  ORDERS_CHANNEL,
  type Order,
  newOrder,
  ORDER,
} from '@podium/orders';
import { CapturedLogger, PrivateRedis, waitFor } from '@podium/testing';
import { Logger } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { validatePodiumEnv, type PodiumEnv } from '../../config/index.js';
import {
  createMessageEnqueuer,
  retryJobId,
  type MessageEnqueuer,
  type MessageJobData,
} from '../../queues/index.js';
import { createRedis, redisTargetFromUrl, ReplicaBarrier } from '@podium/redis';
import { DeliveryMetrics } from '../delivery-metrics.js';
import type { DeliveryOptions } from '../delivery.options.js';
import { EffectApplier } from '../effects/effect-applier.js';
import type { Effects } from '../effects/effects.js';
import type { ListenerGroup, RunningListener } from '../listener-group.js';
import { ListenerStats } from '../listener-stats.js';
import { MessageLoader } from '../work/message-loader.js';
import { MessageWork } from '../work/message-work.js';
import { GroupWorker } from './group-worker.js';

/** A member of a queued group; `calls` counts its handler's runs per order. */
function member(
  name: string,
  pattern: string,
  handle: (order: Order, call: number) => ReturnType<RunningListener['handle']>,
): RunningListener & { calls: Map<string, number> } {
  const calls = new Map<string, number>();
  return {
    name,
    pattern,
    oneSlot: false,
    type: ORDER,
    mode: 'queued',
    group: '',
    calls,
    handle: (order: Order) => {
      const call = (calls.get(order.orderId) ?? 0) + 1;
      calls.set(order.orderId, call);
      return handle(order, call);
    },
  };
}

const adding =
  (name: string) =>
  (order: Order): Effects => ({
    writes: [['SADD', `test:${name}`, order.orderId]],
  });

/** Waits until the queue's failed set holds a job; resolves with its jobs. */
const failedJobs = (queue: Queue<MessageJobData>, what: string) =>
  waitFor(
    async () => {
      const jobs = await queue.getFailed();
      return jobs.length > 0 ? jobs : undefined;
    },
    { what },
  );

/** What a test checks of a job. */
const shape = (job: Job<MessageJobData>) => ({
  id: job.id,
  data: job.data,
  attempts: job.opts.attempts,
  failedReason: job.failedReason,
});

/** Where the markers and outbox entries of a message are on one Redis: the one place. */
const ONE_REDIS = (): string => '';

describe('GroupWorker', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let env: PodiumEnv;
  let enqueuer: MessageEnqueuer;
  let stats: ListenerStats;
  let work: MessageWork;
  const workers: GroupWorker[] = [];

  const recorded = async (fields: Partial<Order> = {}): Promise<Order> => {
    const order = newOrder({ event: 'Womens Judo', ...fields });
    await redis.hset(orderKey(order.orderId), orderToHash(order));
    return order;
  };
  /** Runs a worker for a group of these members, as QueuedDelivery.start() does. */
  function start(name: string, ...listeners: RunningListener[]) {
    const group: ListenerGroup = {
      name,
      type: ORDER,
      mode: 'queued',
      listeners: listeners.map((l) => Object.assign(l, { group: name })),
    };
    workers.push(
      new GroupWorker(group, {
        work,
        stats,
        metrics: new DeliveryMetrics(),
        enqueuer,
        redis,
        redisTarget: redisTargetFromUrl(server.url),
        replication: new ReplicaBarrier(0, 500),
        settings: {
          concurrency: 4,
          attempts: env.QUEUE_ATTEMPTS,
          backoffMs: env.QUEUE_BACKOFF_MS,
          lockMs: env.QUEUE_LOCK_MS,
          stalledCheckMs: env.QUEUE_STALLED_CHECK_MS,
        },
        workerName: 'group-worker-spec',
      }),
    );
    return enqueuer.queues.get(name);
  }
  const counter = (listener: string, field: string) =>
    redis.hget(listenerStatsKey(listener), field);

  beforeAll(async () => {
    server = await PrivateRedis.start();
    Logger.overrideLogger(new CapturedLogger());
    env = validatePodiumEnv({
      REDIS_URL: server.url,
      QUEUE_ATTEMPTS: '3',
      QUEUE_BACKOFF_MS: '10',
      // BullMQ's stalled check may start its next wait as a worker closes: short, so the test ends at once.
      QUEUE_STALLED_CHECK_MS: '500',
    });
    redis = createRedis(
      redisTargetFromUrl(server.url),
      'group-worker-spec',
    ) as Redis;
    enqueuer = createMessageEnqueuer(redis, env);
    stats = new ListenerStats(redis, new DeliveryMetrics());
    work = new MessageWork(
      new MessageLoader(redis),
      new EffectApplier(redis, Keyspace.singleRedis, {
        appliedMarkerTtlSeconds: 3600,
      } as DeliveryOptions),
    );
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
  });
  afterAll(async () => {
    await enqueuer.queues.close();
    await redis.quit();
    await server.destroy();
  });

  it('runs, on each order of a job, every member whose subscription hears it', async () => {
    const all = member('all', ORDERS_CHANNEL, adding('all'));
    const judo = member('judo', eventChannel('Womens Judo'), adding('judo'));
    const queue = start('hearing', all, judo);
    const [judoOrder, curlingOrder] = [
      await recorded(),
      await recorded({ event: 'Curling' }),
    ];
    await enqueuer.enqueue(
      'hearing',
      [judoOrder.orderId, curlingOrder.orderId],
      ONE_REDIS,
    );
    await waitFor(async () => (await queue.getCompletedCount()) === 1, {
      what: 'the job to complete',
    });
    expect(await redis.hgetall(appliedKey(judoOrder.orderId))).toEqual({
      all: '1',
      judo: '1',
    });
    // Not for it: Curling's order is not even offered to the Womens Judo listener.
    expect(await redis.hgetall(appliedKey(curlingOrder.orderId))).toEqual({
      all: '1',
    });
    expect(judo.calls.has(curlingOrder.orderId)).toBe(false);
  });

  it('gives a failing order of a batch a job of its own, with the tries left: it ends in the failed set alone, and a retry from there runs only who failed', async () => {
    let fixed = false;
    const steady = member('steady', ORDERS_CHANNEL, adding('steady'));
    const picky = member('picky', ORDERS_CHANNEL, (order) => {
      if (order.who === 'difficult' && !fixed) throw new Error('too difficult');
      return adding('picky')(order);
    });
    const queue = start('batch', steady, picky);
    const orders = [
      await recorded(),
      await recorded({ who: 'difficult' }),
      await recorded(),
    ];
    const ids = orders.map((o) => o.orderId);
    const bad = ids[1];
    await enqueuer.enqueue('batch', ids, ONE_REDIS);

    const [failed] = await failedJobs(queue, 'a job in the failed set');
    const [batch] = await queue.getCompleted();
    expect(batch.data.orders).toEqual(ids);
    expect(await queue.getFailedCount()).toBe(1);
    // Three tries in all: the batch's, then the two its own job had left.
    expect(shape(failed)).toEqual({
      id: retryJobId(batch.id!, bad),
      data: { orders: [bad], failed: { picky: 'too difficult' } },
      attempts: 2,
      failedReason: 'picky: too difficult',
    });
    expect(picky.calls.get(bad)).toBe(3);
    expect(steady.calls.get(bad)).toBe(1);
    expect((await redis.smembers('test:steady')).sort()).toEqual(
      [...ids].sort(),
    );
    expect(await redis.hgetall(appliedKey(bad))).toEqual({ steady: '1' });
    await waitFor(async () => (await counter('picky', 'failed')) === '1', {
      what: 'the failure counted, once',
    });

    fixed = true;
    await failed.retry('failed'); // as the API retries a failed job
    await waitFor(
      async () => (await redis.hget(appliedKey(bad), 'picky')) === '1',
      {
        what: 'the retried order applied by picky',
      },
    );
    expect(steady.calls.get(bad)).toBe(1);
    expect(await counter('steady', 'duplicates')).toBeNull();
  });

  it('gives an order of a batch that names no order a job of its own that fails at once, counted rejected for every member', async () => {
    const all = member('all', ORDERS_CHANNEL, adding('all'));
    const judo = member('judo', eventChannel('Womens Judo'), adding('judo'));
    const queue = start('rejecting', all, judo);
    const good = await recorded();
    const unknown = newOrder({ event: 'Womens Judo' }).orderId;
    await enqueuer.enqueue('rejecting', [good.orderId, unknown], ONE_REDIS);

    const [failed] = await failedJobs(
      queue,
      'the rejected order in the failed set',
    );
    const why = `no order "${unknown}" (key ${orderKey(unknown)} does not exist)`;
    expect(failed.data).toEqual({
      orders: [unknown],
      failed: { all: why, judo: why },
      counted: 'rejected',
    });
    expect(failed.attemptsMade).toBe(1); // not tried again: nothing would change
    expect(await redis.hgetall(appliedKey(good.orderId))).toEqual({
      all: '1',
      judo: '1',
    });
    await waitFor(
      async () =>
        (await counter('all', 'rejected')) === '1' &&
        (await counter('judo', 'rejected')) === '1',
      { what: 'the rejection counted for both' },
    );
  });

  it('retries a one-order job for the members that have not applied it alone', async () => {
    const steady = member('steady', ORDERS_CHANNEL, adding('steady'));
    const flaky = member('flaky', ORDERS_CHANNEL, (order, call) => {
      if (call === 1) throw new Error('not this time');
      return adding('flaky')(order);
    });
    const queue = start('single', steady, flaky);
    const order = await recorded();
    await enqueuer.enqueue('single', [order.orderId], ONE_REDIS);
    await waitFor(async () => (await queue.getCompletedCount()) === 1, {
      what: 'the job to complete',
    });
    expect(await redis.hgetall(appliedKey(order.orderId))).toEqual({
      steady: '1',
      flaky: '1',
    });
    expect(flaky.calls.get(order.orderId)).toBe(2);
    expect(steady.calls.get(order.orderId)).toBe(1);
    expect(await counter('steady', 'duplicates')).toBeNull();
    expect(await counter('flaky', 'failed')).toBeNull(); // a retry, not a failure
  });

  it('a one-order job whose order Redis does not give on its last try fails for the members that have not applied it alone', async () => {
    const steady = member('steady', ORDERS_CHANNEL, adding('steady'));
    // On the first try, once the order was read, its key comes to hold something Redis
    // cannot give as an order: steady applies it, flaky fails, and the next tries read nothing.
    const flaky = member('flaky', ORDERS_CHANNEL, async (order) => {
      await redis.del(orderKey(order.orderId));
      await redis.set(orderKey(order.orderId), 'not a hash');
      throw new Error('not now');
    });
    const queue = start('unread', steady, flaky);
    const order = await recorded();
    await enqueuer.enqueue('unread', [order.orderId], ONE_REDIS);

    const [failed] = await failedJobs(queue, 'the job in the failed set');
    expect(Object.keys(failed.data.failed ?? {})).toEqual(['flaky']);
    expect(failed.failedReason).toMatch(/^flaky: WRONGTYPE/);
    await waitFor(async () => (await counter('flaky', 'failed')) === '1', {
      what: "flaky's failure counted",
    });
    expect(await counter('steady', 'failed')).toBeNull();
    expect(await redis.hgetall(appliedKey(order.orderId))).toEqual({
      steady: '1',
    });
  });

  it('a one-order job whose order is gone on a retry is rejected for the members that have not applied it alone', async () => {
    const steady = member('steady', ORDERS_CHANNEL, adding('steady'));
    // The first try: steady applies the order, flaky fails. The second: the order is
    // deleted as flaky runs (and fails again). The third finds no order.
    let flakyCalls = 0;
    const flaky = member('flaky', ORDERS_CHANNEL, async (order) => {
      if (++flakyCalls === 2) await redis.del(orderKey(order.orderId));
      throw new Error('not now');
    });
    const queue = start('gone', steady, flaky);
    const order = await recorded();
    await enqueuer.enqueue('gone', [order.orderId], ONE_REDIS);

    const [failed] = await failedJobs(queue, 'the job in the failed set');
    expect(failed.data).toEqual({
      orders: [order.orderId],
      failed: {
        flaky: `no order "${order.orderId}" (key ${orderKey(order.orderId)} does not exist)`,
      },
      counted: 'rejected',
    });
    await waitFor(async () => (await counter('flaky', 'rejected')) === '1', {
      what: "flaky's rejection counted",
    });
    expect(await counter('steady', 'rejected')).toBeNull();
  });
});
