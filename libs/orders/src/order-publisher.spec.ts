import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import {
  appliedKey,
  GroupQueues,
  IDEMPOTENCY_TTL_SECONDS,
  idempotencyKey,
  jobMessageIds,
  listenerStatsKey,
  OUTBOX,
  outboxEntry,
  recordListeners,
  registerDurableSubscription,
  validatePodiumEnv,
} from '@podium/core';
import {
  eventChannel,
  eventKey,
  orderKey,
  orderToHash,
  ORDERS_CHANNEL,
  newOrder,
} from './index.js';
import {
  CapturedLogger,
  PrivateRedis,
  queuedGroups,
  snapshotKeyspace,
  waitFor,
} from '@podium/testing';
import { createRedis, redisTargetFromUrl } from '@podium/redis';
import {
  standaloneOrderPublisher,
  type OrderPublisher,
} from './order-publisher.js';

const JUDO = 'Womens Judo';

describe('OrderPublisher', () => {
  let server: PrivateRedis;
  /** The publisher's connection: auto-pipelining, as the box office's. */
  let redis: Redis;
  let logs: CapturedLogger;
  /** The test's look at the queues. */
  let queues: GroupQueues;
  const closing: (() => Promise<void>)[] = [];

  /**
   * A publisher as the box office runs one, its queues on `queueUrl`. Made after the test
   * set up its listeners and subscriptions: it reads them once a second at most.
   */
  function publisher(queueUrl = server.url): OrderPublisher {
    const made = standaloneOrderPublisher(
      redis,
      validatePodiumEnv({ REDIS_URL: queueUrl }),
    );
    closing.push(made.close);
    return made.publisher;
  }
  /** Per job in the group's queue, the orders it carries. */
  const jobs = async (group: string): Promise<string[][]> =>
    (await queues.get(group).getJobs(['waiting'])).map((job) =>
      jobMessageIds(job.data),
    );

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = createRedis(
      redisTargetFromUrl(server.url),
      'order-publisher-spec',
    ) as Redis;
    logs = new CapturedLogger();
    Logger.overrideLogger(logs);
    queues = new GroupQueues(() =>
      createRedis(redisTargetFromUrl(server.url), 'order-publisher-spec-look', {
        autoPipelining: false,
      }),
    );
  });
  beforeEach(async () => {
    await redis.flushall();
    await redis.hset(eventKey(JUDO), { name: JUDO, price: '20', sold: '0' });
  });
  afterEach(async () => {
    for (const close of closing.splice(0)) await close();
  });
  afterAll(async () => {
    await queues.close();
    await redis.quit();
    await server.destroy();
  });

  it("records a purchase as the seed's order hash, counts the tickets sold, and answers the order with its cost", async () => {
    const before = Math.floor(Date.now() / 1000);
    const result = await publisher().purchase({
      event: JUDO,
      qty: 3,
      who: 'fan',
    });
    expect(result).toEqual({
      outcome: 'created',
      order: {
        orderId: expect.stringMatching(/^[A-Z][A-Z0-9]{11}$/),
        event: JUDO,
        qty: 3,
        who: 'fan',
        cost: '60',
        ts: expect.any(Number),
      },
    });
    if (result.outcome !== 'created') return;
    const { order } = result;
    expect(order.ts).toBeGreaterThanOrEqual(before);
    expect(await redis.hgetall(orderKey(order.orderId))).toEqual(
      orderToHash(order),
    );
    expect(await redis.hget(eventKey(JUDO), 'sold')).toBe('3');
  });

  it.each([
    ['12.5', 3, '37.5'],
    ['0.1', 3, '0.3'],
    ['19.99', 3, '59.97'],
    ['0.05', 3, '0.15'],
    ['1.1', 7, '7.7'],
    ['20', 2, '40'],
    ['0', 4, '0'],
  ])(
    'computes the cost from the price in cents: %s x %d = %s',
    async (price, qty, cost) => {
      await redis.hset(eventKey(JUDO), 'price', price);
      const result = await publisher().purchase({ event: JUDO, qty, who: 'x' });
      expect(result.outcome === 'created' && result.order.cost).toBe(cost);
    },
  );

  it('records an order as given, its cost included', async () => {
    const order = newOrder({ event: JUDO, qty: 2, cost: '12.34' });
    expect(await publisher().record(order)).toEqual({
      outcome: 'created',
      order,
    });
    expect(await redis.hgetall(orderKey(order.orderId))).toEqual(
      orderToHash(order),
    );
  });

  it('counts the order as announced for every listener in the directory whose subscription hears it, and announces it on both channels', async () => {
    const listener = (name: string, pattern: string) => ({
      name,
      pattern,
      mode: 'ephemeral' as const,
      group: 'ephemeral',
      queue: null,
      startedAt: Date.now(),
    });
    await recordListeners(redis, [
      listener('everything', ORDERS_CHANNEL),
      listener('judo', eventChannel(JUDO)),
      listener('womens', `${eventChannel('Womens')}*`),
      listener('darts', eventChannel('Darts')),
    ]);
    const subscriber = server.client();
    const heard: [string, string][] = [];
    subscriber.on('pmessage', (_pattern, channel: string, message: string) =>
      heard.push([channel, message]),
    );
    await subscriber.psubscribe(`${ORDERS_CHANNEL}*`);

    const result = await publisher().purchase({
      event: JUDO,
      qty: 1,
      who: 'fan',
    });
    const orderId = result.outcome === 'created' ? result.order.orderId : '';
    for (const name of ['everything', 'judo', 'womens'])
      expect(await redis.hget(listenerStatsKey(name), 'announced')).toBe('1');
    expect(await redis.exists(listenerStatsKey('darts'))).toBe(0);
    await waitFor(() => heard.length === 2, { what: 'both announcements' });
    expect(heard).toEqual([
      [ORDERS_CHANNEL, orderId],
      [eventChannel(JUDO), orderId],
    ]);
    await subscriber.quit();
  });

  it('replays an Idempotency-Key: the same request answers its order, recorded once; another request under the key is not the same', async () => {
    const recorder = publisher();
    const request = { event: JUDO, qty: 2, who: 'fan' };
    const key = { key: 'retry-1', fingerprint: 'request-a' };
    const first = await recorder.purchase(request, key);
    const orderId = first.outcome === 'created' ? first.order.orderId : '';
    expect(await redis.ttl(idempotencyKey('retry-1'))).toBeGreaterThan(
      IDEMPOTENCY_TTL_SECONDS - 60,
    );

    expect(await recorder.purchase(request, key)).toEqual({
      outcome: 'replay',
      orderId,
      sameRequest: true,
    });
    expect(
      await recorder.purchase(
        { ...request, qty: 5 },
        { key: 'retry-1', fingerprint: 'request-b' },
      ),
    ).toEqual({ outcome: 'replay', orderId, sameRequest: false });
    expect(await redis.keys(orderKey('*'))).toEqual([orderKey(orderId)]);
    expect(await redis.hget(eventKey(JUDO), 'sold')).toBe('2');
  });

  it('sells no more than the capacity: the tickets left, and nothing written', async () => {
    await redis.hset(eventKey(JUDO), { capacity: '5', sold: '3' });
    const recorder = publisher();
    const before = await snapshotKeyspace(redis);
    expect(
      await recorder.purchase(
        { event: JUDO, qty: 3, who: 'fan' },
        { key: 'k', fingerprint: 'f' },
      ),
    ).toEqual({ outcome: 'sold_out', ticketsLeft: 2 });
    expect(await snapshotKeyspace(redis)).toEqual(before);

    const last = await recorder.purchase({ event: JUDO, qty: 2, who: 'fan' });
    expect(last.outcome).toBe('created');
    expect(await redis.hget(eventKey(JUDO), 'sold')).toBe('5');
  });

  it('answers no_event for an event that does not exist, and writes nothing', async () => {
    const before = await snapshotKeyspace(redis);
    expect(
      await publisher().purchase(
        { event: 'Quidditch', qty: 1, who: 'fan' },
        { key: 'k', fingerprint: 'f' },
      ),
    ).toEqual({ outcome: 'no_event' });
    expect(await snapshotKeyspace(redis)).toEqual(before);
  });

  describe('with durable subscriptions', () => {
    beforeEach(async () => {
      for (const [group, pattern] of [
        ['durable', ORDERS_CHANNEL],
        ['judo', eventChannel(JUDO)],
        ['darts', eventChannel('Darts')],
      ])
        await registerDurableSubscription(redis, {
          group,
          listeners: [`${group}-fan`],
          patterns: [pattern],
        });
    });

    it('answers, then queues the purchases of one tick in one job per group that hears them, marks them queued for it, and clears their outbox entries once the job exists', async () => {
      const recorder = publisher();
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          recorder.purchase({ event: JUDO, qty: 1, who: `fan-${i}` }),
        ),
      );
      const ids = results.map((r) =>
        r.outcome === 'created' ? r.order.orderId : '',
      );
      await waitFor(async () => (await redis.exists(OUTBOX)) === 0, {
        what: 'the jobs added after the answers, and the outbox cleared',
      });
      expect(await jobs('durable')).toEqual([ids]);
      expect(await jobs('judo')).toEqual([ids]);
      expect(await jobs('darts')).toEqual([]);
      for (const id of ids) {
        expect(await queuedGroups(redis, id)).toEqual(['durable', 'judo']);
        expect(await redis.ttl(appliedKey(id))).toBeGreaterThan(3600);
      }
      expect(await redis.exists(OUTBOX)).toBe(0);
    });

    it('a job that cannot be added leaves the purchase created and its entries in the outbox; the same request again queues it', async () => {
      // A user that may not write the queues: the job's add fails with NOPERM.
      await redis.call(
        'ACL',
        'SETUSER',
        'no-queues',
        'reset',
        'on',
        '>no-queues-password',
        '&*',
        '+@all',
      );
      const failing = publisher(
        `redis://no-queues:no-queues-password@127.0.0.1:${server.port}`,
      );
      const request = { event: JUDO, qty: 1, who: 'fan' };
      const key = { key: 'retry-2', fingerprint: 'request-a' };
      const first = await failing.purchase(request, key);
      expect(first.outcome).toBe('created');
      const orderId = first.outcome === 'created' ? first.order.orderId : '';
      const entries = [
        outboxEntry('durable', orderId),
        outboxEntry('judo', orderId),
      ];
      const [warning] = await waitFor(
        () => {
          const lines = logs.matching(`order ${orderId} is recorded`);
          return lines.length > 0 ? lines : undefined;
        },
        { what: 'the failed add logged, after the answer' },
      );
      expect((await redis.zrange(OUTBOX, 0, -1)).sort()).toEqual(entries);
      expect(await jobs('durable')).toEqual([]);
      expect(warning).toMatch(
        /queueing it for (durable, judo|judo, durable) is left to the outbox relay: NOPERM/,
      );

      // Another request under the key queues nothing; the same request does, at once.
      const working = publisher();
      await working.purchase(
        { ...request, qty: 2 },
        { ...key, fingerprint: 'request-b' },
      );
      expect((await redis.zrange(OUTBOX, 0, -1)).sort()).toEqual(entries);
      expect(await working.purchase(request, key)).toEqual({
        outcome: 'replay',
        orderId,
        sameRequest: true,
      });
      await waitFor(async () => (await redis.exists(OUTBOX)) === 0, {
        what: 'the replay to queue the jobs',
      });
      expect(await jobs('durable')).toEqual([[orderId]]);
      expect(await jobs('judo')).toEqual([[orderId]]);
      expect(await redis.exists(OUTBOX)).toBe(0);
    });
  });
});
