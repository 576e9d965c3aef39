import type { Redis } from 'ioredis';
import request from 'supertest';
import { validatePodiumEnv } from '@podium/config';
import {
  eventChannel,
  eventKey,
  newOrderId,
  orderKey,
  orderToHash,
  ORDERS_CHANNEL,
  type Order,
} from '@podium/orders';
import {
  OrderPublisher,
  OUTBOX,
  OUTBOX_LEASE,
  OutboxRelay,
  readOutbox,
} from '@podium/publisher';
import { jobKey, registerDurableSubscription } from '@podium/queues';
import { SalesSummaryModule } from '@podium/listeners';
import {
  CapturedLogger,
  PrivateRedis,
  startListenersApp,
  waitFor,
} from '@podium/testing';
import { Announcements } from './support/announcements.js';
import { startBoxOffice } from './support/box-office.js';
import { FaultyRecorder } from './support/faulty-recorder.js';
import { sample } from './support/metrics.js';

const JUDO = 'Womens Judo';
const CURLING = 'Curling';

describe('the outbox: orders recorded for durable subscriptions until they are announced', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let recorder: FaultyRecorder;
  let announcements: Announcements;
  const relays: OutboxRelay[] = [];

  function relay(env: Record<string, string> = {}): OutboxRelay {
    const made = new OutboxRelay(
      redis,
      validatePodiumEnv({
        REDIS_URL: server.url,
        OUTBOX_GRACE_MS: '100',
        ...env,
      }),
    );
    relays.push(made);
    return made;
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
  });

  afterEach(async () => {
    for (const r of relays.splice(0)) await r.close();
    await recorder?.stop();
    await server?.destroy();
  });

  it("the record script writes the entry with the order, on Redis's clock; the announcement removes it", async () => {
    const before = await redisNow();
    const ghost = await recorder.record({ event: JUDO, qty: 3 });
    const score = Number(await redis.zscore(OUTBOX, ghost.orderId));
    expect(score).toBeGreaterThanOrEqual(before);
    expect(score).toBeLessThanOrEqual(await redisNow());
    // Recorded and counted, neither queued nor announced: a ghost, but one the outbox knows.
    expect(await redis.hget(orderKey(ghost.orderId), 'qty')).toBe('3');
    expect(await redis.hget(eventKey(JUDO), 'sold')).toBe('3');
    expect(await redis.exists(jobKey('durable', ghost.orderId))).toBe(0);

    const publisher = new OrderPublisher(
      redis,
      validatePodiumEnv({ REDIS_URL: server.url }),
    );
    try {
      const order: Order = {
        orderId: newOrderId(),
        who: 'ann',
        qty: 1,
        cost: '20',
        event: JUDO,
        ts: 1_700_000_000,
      };
      expect((await publisher.record(order)).outcome).toBe('created');
      expect(await redis.zscore(OUTBOX, order.orderId)).toBeNull();
      expect(await redis.exists(jobKey('durable', order.orderId))).toBe(1);
    } finally {
      await publisher.onApplicationShutdown();
    }
    await announcements.settle(redis);
    expect(announcements.count(ghost.orderId)).toBe(0);
    expect(await redis.zrange(OUTBOX, 0, -1)).toEqual([ghost.orderId]);
  });

  it('an order no durable subscription matches gets no entry: the script announces it as it records it', async () => {
    await redis.hdel('podium:durable-subscriptions', 'durable');
    const order = await recorder.recordAnnounced({ event: CURLING });
    await announcements.settle(redis);
    expect(announcements.heard.get(order.orderId)).toEqual([
      ORDERS_CHANNEL,
      eventChannel(CURLING),
    ]);
    expect(await redis.exists(OUTBOX)).toBe(0);
  });

  it('a relay leaves entries younger than the grace; older ones get a job per matching durable group, one announcement, and leave', async () => {
    const ghost = await recorder.record({ event: JUDO });
    expect(await relay({ OUTBOX_GRACE_MS: '3600000' }).runOnce()).toBe(0);
    expect(await redis.zscore(OUTBOX, ghost.orderId)).not.toBeNull();

    await allOlderThan(100);
    expect(await relay().runOnce()).toBe(1);
    expect(
      await redis.exists(
        jobKey('durable', ghost.orderId),
        jobKey('judo', ghost.orderId),
      ),
    ).toBe(2);
    expect(await redis.exists(jobKey('other', ghost.orderId))).toBe(0);
    expect(await redis.exists(OUTBOX, OUTBOX_LEASE)).toBe(0);
    await announcements.settle(redis);
    expect(announcements.heard.get(ghost.orderId)).toEqual([
      ORDERS_CHANNEL,
      eventChannel(JUDO),
    ]);
  });

  it('two relays at once: one holds the lease and re-drives every order once, the other stands by', async () => {
    // More than one batch, so the lease is renewed along the way.
    const ghosts = await Promise.all(
      Array.from({ length: 250 }, (_, i) =>
        recorder.record({ event: i % 2 ? JUDO : CURLING }),
      ),
    );
    await allOlderThan(100);
    const counts = await Promise.all([relay().runOnce(), relay().runOnce()]);
    expect(counts.sort((a, b) => a - b)).toEqual([0, 250]);
    await announcements.settle(redis);
    expect(ghosts.filter((g) => announcements.count(g.orderId) !== 1)).toEqual(
      [],
    );
    expect(await redis.exists(OUTBOX, OUTBOX_LEASE)).toBe(0);
  });

  it('an entry whose order hash is gone is dropped', async () => {
    const ghost = await recorder.record({ event: JUDO });
    await redis.del(orderKey(ghost.orderId));
    await allOlderThan(100);
    expect(await relay().runOnce()).toBe(0);
    expect(await redis.exists(OUTBOX)).toBe(0);
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

      // Two orders a box office recorded, one of them a minute ago, and never announced.
      const now = await redisNow();
      const old: Order = {
        orderId: newOrderId(),
        who: 'ann',
        qty: 1,
        cost: '20',
        event: JUDO,
        ts: 1_700_000_000,
      };
      await redis.hset(orderKey(old.orderId), orderToHash(old));
      await redis.zadd(OUTBOX, now - 60_000, old.orderId, now, newOrderId());
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
            '2 order(s) recorded but not announced, the oldest 60 s ago',
          ).length > 0,
        { what: 'the warning' },
      );
      expect((await readOutbox(redis)).entries).toBe(2);
    } finally {
      await boxOffice.close();
    }
  });

  it('a listeners process runs a relay only while it runs durable listeners', async () => {
    for (const [DELIVERY, runs] of [
      ['durable', true],
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
