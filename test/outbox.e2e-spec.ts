import type { Redis } from 'ioredis';
import request from 'supertest';
import {
  validatePodiumEnv,
  OutboxRelay,
  readOutbox,
  createMessageEnqueuer,
  GroupQueues,
  jobMessageIds,
  outboxEntry,
  registerDurableSubscription,
  type MessageEnqueuer,
  appliedKey,
  OUTBOX,
  OUTBOX_LEASE,
} from '@podium/core';
import {
  eventChannel,
  eventKey,
  newOrderId,
  orderKey,
  ORDERS_CHANNEL,
  newOrder,
  standaloneOrderPublisher,
} from '@podium/orders';
import {
  CapturedLogger,
  PrivateRedis,
  startListenersApp,
  waitFor,
} from '@podium/testing';
import { SalesSummaryModule } from '@podium/listeners';
import { Announcements } from './support/announcements.js';
import { startBoxOffice } from './support/box-office.js';
import { FaultyRecorder } from './support/faulty-recorder.js';
import { sample } from './support/metrics.js';

const JUDO = 'Womens Judo';
const CURLING = 'Curling';

describe('the outbox: the jobs of recorded orders, until they exist', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let recorder: FaultyRecorder;
  let announcements: Announcements;
  let queues: GroupQueues;
  const relays: { relay: OutboxRelay; enqueuer: MessageEnqueuer }[] = [];

  function relay(env: Record<string, string> = {}): OutboxRelay {
    const config = validatePodiumEnv({
      REDIS_URL: server.url,
      OUTBOX_GRACE_MS: '100',
      ...env,
    });
    const enqueuer = createMessageEnqueuer(redis, config);
    const made = new OutboxRelay(redis, config, enqueuer);
    relays.push({ relay: made, enqueuer });
    return made;
  }

  /** The groups whose queues hold a job carrying the order. */
  async function queuedFor(orderId: string): Promise<string[]> {
    const groups = [];
    for (const group of ['durable', 'judo', 'other']) {
      const jobs = await queues.get(group).getJobs(['waiting', 'delayed']);
      if (jobs.some((job) => jobMessageIds(job.data).includes(orderId)))
        groups.push(group);
    }
    return groups;
  }

  /** Redis's clock, ms: the outbox's scores are on it. */
  async function redisNow(): Promise<number> {
    const [seconds, micros] = await redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /** Waits until every outbox entry is older than `ms` on Redis's clock. */
  async function allOlderThan(ms: number): Promise<void> {
    await waitFor(
      async () => {
        const newest = await redis.zrange(OUTBOX, -1, -1, 'WITHSCORES');
        return (
          newest.length === 0 || (await redisNow()) - Number(newest[1]) >= ms
        );
      },
      { what: `every outbox entry older than ${ms} ms` },
    );
  }

  beforeEach(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
    // Durable groups: `durable` hears every order, `judo` Womens Judo's only, `other` neither of the orders below.
    await registerDurableSubscription(redis, {
      group: 'durable',
      listeners: ['sales-summary'],
      patterns: [ORDERS_CHANNEL],
    });
    await registerDurableSubscription(redis, {
      group: 'judo',
      listeners: ['judo-fans'],
      patterns: [eventChannel(JUDO)],
    });
    await registerDurableSubscription(redis, {
      group: 'other',
      listeners: ['darts-fans'],
      patterns: [eventChannel('Darts')],
    });
    for (const name of [JUDO, CURLING])
      await redis.hset(eventKey(name), { name, price: '20', sold: '0' });
    recorder = await FaultyRecorder.start(server);
    announcements = await Announcements.listen(server);
    queues = new GroupQueues(() => server.client());
  });

  afterEach(async () => {
    for (const { relay, enqueuer } of relays.splice(0)) {
      await relay.close();
      await enqueuer.queues.close();
    }
    await queues?.close();
    await recorder?.stop();
    await server?.destroy();
  });

  it("the record script enters a job per durable group that hears the order, on Redis's clock, and announces it; the job's add removes the entry", async () => {
    const before = await redisNow();
    const ghost = await recorder.record({ event: JUDO, qty: 3 });
    const entries = await redis.zrange(OUTBOX, 0, -1, 'WITHSCORES');
    expect(entries.filter((_, i) => i % 2 === 0).sort()).toEqual([
      outboxEntry('durable', ghost.orderId),
      outboxEntry('judo', ghost.orderId),
    ]);
    for (const score of entries.filter((_, i) => i % 2 === 1)) {
      expect(Number(score)).toBeGreaterThanOrEqual(before);
      expect(Number(score)).toBeLessThanOrEqual(await redisNow());
    }
    // Recorded, counted, marked for its groups and announced; not queued: what the outbox is for.
    expect(await redis.hget(orderKey(ghost.orderId), 'qty')).toBe('3');
    expect(await redis.hget(eventKey(JUDO), 'sold')).toBe('3');
    expect(await redis.hgetall(appliedKey(ghost.orderId))).toEqual({
      'queued:durable': '1',
      'queued:judo': '1',
    });
    await announcements.settle(redis);
    expect(announcements.heard.get(ghost.orderId)).toEqual([
      ORDERS_CHANNEL,
      eventChannel(JUDO),
    ]);
    expect(await queuedFor(ghost.orderId)).toEqual([]);

    const { publisher, close } = standaloneOrderPublisher(
      redis,
      validatePodiumEnv({ REDIS_URL: server.url }),
    );
    try {
      const order = newOrder({ event: CURLING });
      expect((await publisher.record(order)).outcome).toBe('created');
      // The job is added after the answer; its entry goes once it exists.
      await waitFor(
        async () => (await queuedFor(order.orderId)).includes('durable'),
        { what: "the order's job added after its answer" },
      );
    } finally {
      await close();
    }
    expect(await redis.zrange(OUTBOX, 0, -1)).toEqual([
      outboxEntry('durable', ghost.orderId),
      outboxEntry('judo', ghost.orderId),
    ]);
  });

  it('an order no durable subscription hears gets no entry', async () => {
    await redis.hdel('podium:durable-subscriptions', 'durable');
    const order = await recorder.recordAnnounced({ event: CURLING });
    await announcements.settle(redis);
    expect(announcements.heard.get(order.orderId)).toEqual([
      ORDERS_CHANNEL,
      eventChannel(CURLING),
    ]);
    expect(await redis.exists(OUTBOX)).toBe(0);
  });

  it('a relay leaves entries younger than the grace; older ones are queued for their groups and leave', async () => {
    const ghost = await recorder.record({ event: JUDO });
    expect(await relay({ OUTBOX_GRACE_MS: '3600000' }).runOnce()).toBe(0);
    expect(await redis.zcard(OUTBOX)).toBe(2);

    await allOlderThan(100);
    expect(await relay().runOnce()).toBe(2);
    expect(await queuedFor(ghost.orderId)).toEqual(['durable', 'judo']);
    expect(await redis.exists(OUTBOX, OUTBOX_LEASE)).toBe(0);
    await announcements.settle(redis);
    // Announced once, by the record script: the relay only queues.
    expect(announcements.count(ghost.orderId)).toBe(1);
  });

  it('two relays at once: one holds the lease and queues every entry once, the other stands by', async () => {
    // More than one batch, so the lease is renewed along the way.
    const ghosts = await Promise.all(
      Array.from({ length: 600 }, (_, i) =>
        recorder.record({ event: i % 2 ? JUDO : CURLING }),
      ),
    );
    const entries = await redis.zcard(OUTBOX);
    expect(entries).toBe(900); // Womens Judo's orders have two groups
    await allOlderThan(100);
    const counts = await Promise.all([relay().runOnce(), relay().runOnce()]);
    expect(counts.sort((a, b) => a - b)).toEqual([0, 900]);
    const jobs = await queues.get('durable').getJobs(['waiting']);
    const queued = jobs.flatMap((job) => jobMessageIds(job.data));
    expect(queued.sort()).toEqual(ghosts.map((g) => g.orderId).sort());
    expect(await redis.exists(OUTBOX, OUTBOX_LEASE)).toBe(0);
  });

  it('the box office shows the outbox in /metrics and warns while its oldest entry is older than OUTBOX_WARN_AGE_SECONDS', async () => {
    const logs = new CapturedLogger();
    // A grace of an hour: this box office's relay leaves the entries alone.
    const boxOffice = await startBoxOffice(
      server.url,
      {
        OUTBOX_GRACE_MS: '3600000',
        OUTBOX_RELAY_INTERVAL_MS: '50',
        OUTBOX_WARN_AGE_SECONDS: '10',
      },
      { logger: logs },
    );
    try {
      const metrics = async () =>
        (await request(boxOffice.getHttpServer()).get('/metrics').expect(200))
          .text;
      expect(sample(await metrics(), 'podium_outbox_entries')).toBe(0);
      expect(
        sample(await metrics(), 'podium_outbox_oldest_entry_age_seconds'),
      ).toBe(0);

      // The jobs of two orders a box office recorded, one of them a minute ago, and never queued.
      const now = await redisNow();
      await redis.zadd(
        OUTBOX,
        now - 60_000,
        outboxEntry('durable', newOrderId()),
        now,
        outboxEntry('durable', newOrderId()),
      );
      // The gauges share one read per scrape (kept 100 ms): wait for a fresh one.
      const text = await waitFor(
        async () => {
          const scraped = await metrics();
          return sample(scraped, 'podium_outbox_entries') === 2
            ? scraped
            : undefined;
        },
        { what: 'podium_outbox_entries 2' },
      );
      expect(
        sample(text, 'podium_outbox_oldest_entry_age_seconds'),
      ).toBeGreaterThanOrEqual(60);
      await waitFor(
        () =>
          logs.matching(
            '2 job(s) of recorded messages not queued yet, the oldest entered 60 s ago',
          ).length > 0,
        { what: 'the warning' },
      );
      expect((await readOutbox(redis)).entries).toBe(2);
    } finally {
      await boxOffice.close();
    }
  });

  it('a listeners process runs a relay only while it runs listeners with a queue', async () => {
    for (const [DELIVERY, runs] of [
      ['durable', true],
      ['queued', true],
      ['ephemeral', false],
    ] as const) {
      const app = await startListenersApp({
        redisUrl: server.url,
        listeners: [SalesSummaryModule],
        env: { DELIVERY },
        logger: false,
      });
      try {
        expect(app.app.get(OutboxRelay).running).toBe(runs);
      } finally {
        await app.close();
      }
    }
  });
});
