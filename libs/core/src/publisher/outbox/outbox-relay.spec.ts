import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { validatePodiumEnv } from '../../config/index.js';
import { OUTBOX, OUTBOX_LEASE } from '../../index.js';
import { CapturedLogger, PrivateRedis, waitFor } from '@podium/testing';
import {
  createMessageEnqueuer,
  GroupQueues,
  jobMessageIds,
  outboxEntry,
  type MessageEnqueuer,
} from '../../queues/index.js';
import { createRedis, redisTargetFromUrl } from '@podium/redis';
import { OutboxRelay } from './outbox-relay.js';

const GRACE_MS = 1000;

describe('OutboxRelay', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let logs: CapturedLogger;
  /** The test's look at the queues. */
  let queues: GroupQueues;
  const closing: (() => Promise<void>)[] = [];

  /** A relay as a box office runs one, with the MessageEnqueuer it queues through. */
  function relay(
    env: Record<string, string> = {},
    registry?: Registry,
  ): { relay: OutboxRelay; enqueuer: MessageEnqueuer } {
    const config = validatePodiumEnv({
      REDIS_URL: server.url,
      OUTBOX_GRACE_MS: String(GRACE_MS),
      OUTBOX_RELAY_INTERVAL_MS: '50',
      OUTBOX_WARN_AGE_SECONDS: '30',
      ...env,
    });
    const enqueuer = createMessageEnqueuer(redis, config);
    const made = new OutboxRelay(redis, config, enqueuer, registry);
    closing.push(async () => {
      await made.close();
      await enqueuer.queues.close();
    });
    return { relay: made, enqueuer };
  }

  /** Enters jobs in the outbox as made `ageMs` ago on Redis's clock (its scores are on it). */
  async function enter(ageMs: number, ...entries: [string, string][]) {
    const [seconds, micros] = await redis.time();
    const at = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    await redis.zadd(
      OUTBOX,
      ...entries.flatMap(([group, id]) => [at - ageMs, outboxEntry(group, id)]),
    );
  }
  /** Per job in the group's queue, the orders it carries. */
  const jobs = async (group: string): Promise<string[][]> =>
    (await queues.get(group).getJobs(['waiting']))
      .sort((a, b) => a.timestamp - b.timestamp)
      .map((job) => jobMessageIds(job.data));
  const outbox = () => redis.zrange(OUTBOX, 0, -1);

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = createRedis(
      redisTargetFromUrl(server.url),
      'outbox-relay-spec',
    ) as Redis;
    logs = new CapturedLogger();
    Logger.overrideLogger(logs);
    queues = new GroupQueues(() =>
      createRedis(redisTargetFromUrl(server.url), 'outbox-relay-spec-look', {
        autoPipelining: false,
      }),
    );
  });
  beforeEach(async () => {
    await redis.flushall();
    logs.lines.length = 0;
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    for (const close of closing.splice(0)) await close();
  });
  afterAll(async () => {
    await queues.close();
    await redis.quit();
    await server.destroy();
  });

  it('leaves entries younger than the grace alone; queues the older ones for their group, one job per group, and removes them', async () => {
    const { relay: relaying } = relay();
    await enter(0, ['durable', 'YOUNG1']);
    expect(await relaying.runOnce()).toBe(0);
    expect(await redis.exists(OUTBOX_LEASE)).toBe(0); // not even taken

    await enter(5000, ['durable', 'OLD1'], ['slow', 'OLD3']);
    await enter(2000, ['durable', 'OLD2']);
    expect(await relaying.runOnce()).toBe(3);
    expect(await jobs('durable')).toEqual([['OLD1', 'OLD2']]);
    expect(await jobs('slow')).toEqual([['OLD3']]);
    expect(await outbox()).toEqual([outboxEntry('durable', 'YOUNG1')]);
    expect(await redis.exists(OUTBOX_LEASE)).toBe(0); // given back
    expect(
      logs.matching(
        `Queued 3 job(s) of messages recorded or claimed over ${GRACE_MS} ms ago and never queued`,
      ),
    ).toHaveLength(1);
  });

  it('stands by while another relay holds the lease; of two relays at once, one does the work', async () => {
    await enter(5000, ['durable', 'A1'], ['durable', 'A2'], ['slow', 'B1']);
    await redis.set(OUTBOX_LEASE, 'another relay', 'PX', 5000);
    expect(await relay().relay.runOnce()).toBe(0);
    expect(await outbox()).toHaveLength(3);
    expect(await redis.get(OUTBOX_LEASE)).toBe('another relay');

    await redis.del(OUTBOX_LEASE);
    const counts = await Promise.all([
      relay().relay.runOnce(),
      relay().relay.runOnce(),
    ]);
    expect(counts.sort()).toEqual([0, 3]);
    expect(await jobs('durable')).toEqual([['A1', 'A2']]);
    expect(await jobs('slow')).toEqual([['B1']]);
  });

  it('works in batches of 500, and stops after the batch in hand once its lease was taken over, leaving the new holder its lease', async () => {
    const ids = Array.from({ length: 700 }, (_, i) => `ORDER${1000 + i}`);
    await enter(5000, ...ids.map((id): [string, string] => ['durable', id]));
    const { relay: relaying, enqueuer } = relay();
    const enqueue = enqueuer.enqueue.bind(enqueuer);
    // While the first batch is queued, the lease lapses and another relay takes it.
    jest
      .spyOn(enqueuer, 'enqueue')
      .mockImplementationOnce(async (group, orderIds, placeOf) => {
        await redis.set(OUTBOX_LEASE, 'another relay', 'PX', 5000);
        return enqueue(group, orderIds, placeOf);
      });
    expect(await relaying.runOnce()).toBe(500);
    expect((await jobs('durable')).map((job) => job.length)).toEqual([500]);
    expect(await outbox()).toHaveLength(200);
    expect(await redis.get(OUTBOX_LEASE)).toBe('another relay');

    // Its lease again: the rest, in one more batch.
    await redis.del(OUTBOX_LEASE);
    expect(await relaying.runOnce()).toBe(200);
    expect((await jobs('durable')).flat()).toEqual(ids);
  });

  it('leaves the entries for the next pass when a job cannot be added, and gives the lease back', async () => {
    await enter(5000, ['durable', 'A1']);
    const { relay: relaying, enqueuer } = relay();
    jest
      .spyOn(enqueuer, 'enqueue')
      .mockRejectedValueOnce(new Error('OOM command not allowed'));
    await expect(relaying.runOnce()).rejects.toThrow('OOM command not allowed');
    expect(await outbox()).toEqual([outboxEntry('durable', 'A1')]);
    expect(await redis.exists(OUTBOX_LEASE)).toBe(0);

    expect(await relaying.runOnce()).toBe(1);
    expect(await jobs('durable')).toEqual([['A1']]);
  });

  it('warns when its oldest entry is older than OUTBOX_WARN_AGE_SECONDS, at most once a minute, even while another relay holds the lease', async () => {
    const warning = 'job(s) of recorded messages not queued yet';
    // Another relay holds the lease (and fails to queue): this one only looks.
    await redis.set(OUTBOX_LEASE, 'another relay', 'PX', 5000);
    const { relay: relaying } = relay();
    await enter(10_000, ['durable', 'A1']);
    expect(await relaying.runOnce()).toBe(0);
    expect(logs.matching(warning)).toEqual([]);

    await enter(60_000, ['durable', 'A2']);
    await relaying.runOnce();
    await relaying.runOnce();
    expect(logs.matching(warning)).toEqual([
      `warn [OutboxRelay] Outbox: 2 job(s) of recorded messages not queued yet, the oldest entered 60 s ago ` +
        '(over OUTBOX_WARN_AGE_SECONDS=30); their listeners wait for them. See docs/operations.md#outbox',
    ]);
  });

  it('once started, looks every OUTBOX_RELAY_INTERVAL_MS: a failing pass is logged and the next one queues; close() stops it', async () => {
    await enter(5000, ['durable', 'A1'], ['durable', 'A2']);
    const registry = new Registry();
    const { relay: relaying, enqueuer } = relay({}, registry);
    jest
      .spyOn(enqueuer, 'enqueue')
      .mockRejectedValueOnce(new Error('OOM command not allowed'));
    relaying.start();
    expect(relaying.running).toBe(true);
    // The pass counts what it queued once it is over (after the entries left the outbox).
    const redriven = async () =>
      (await registry.getSingleMetric('podium_outbox_redriven_total')!.get())
        .values[0]?.value;
    await waitFor(async () => (await redriven()) === 2, {
      what: 'the next pass to queue both entries',
    });
    expect(await redis.exists(OUTBOX)).toBe(0);
    expect(await jobs('durable')).toEqual([['A1', 'A2']]);
    expect(
      logs.matching(
        'Outbox relay: OOM command not allowed; the entries stay for the next pass',
      ),
    ).toHaveLength(1);

    await relaying.close();
    expect(relaying.running).toBe(false);
    await enter(5000, ['durable', 'A3']);
    relaying.start(); // a closed relay stays closed
    expect(relaying.running).toBe(false);
    expect(await outbox()).toEqual([outboxEntry('durable', 'A3')]);
  });
});
