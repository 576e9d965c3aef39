import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import type { Redis } from 'ioredis';
import request from 'supertest';
import { seedListenersFor } from '@podium/listeners';
import { appliedKey, GroupQueues, OUTBOX } from '@podium/core';
import { invoicesKey, OPENING_CEREMONY, SALES_SUMMARY } from '@podium/orders';
import {
  ListenersProcess,
  operatorAuth,
  PrivateRedis,
  waitFor,
} from '@podium/testing';
import { startBoxOffice } from './support/box-office.js';

/** The listeners app with a sixth listener, the README's (examples/sixth-listener): nothing here counts listeners by hand. */
const LISTENERS_MAIN = fileURLToPath(
  new URL('../dist/examples/sixth-listener/main.js', import.meta.url),
);
const EVENTS = ['Womens Judo', OPENING_CEREMONY];

interface Bought {
  orderId: string;
  event: string;
  qty: number;
}

/** Every successful purchase is applied by the listeners that should see it, exactly once. */
async function expectExactlyOnce(
  redis: Redis,
  bought: Bought[],
  deadlineMs: number,
): Promise<void> {
  // The seed's listeners that apply each order: three base ones, plus the lottery (Opening Ceremony) or the alerter.
  await waitFor(
    async () => {
      const pipeline = redis.pipeline();
      for (const o of bought)
        pipeline.hmget(appliedKey(o.orderId), ...seedListenersFor(o.event));
      const marks = ((await pipeline.exec()) ?? []).map(
        ([, m]) => m as (string | null)[],
      );
      return marks.every((m) => m.every((mark) => mark === '1'));
    },
    {
      what: `all ${bought.length} orders applied by the seed's listeners`,
      timeoutMs: deadlineMs,
    },
  );
  for (const event of EVENTS) {
    const orders = bought.filter((o) => o.event === event);
    const tickets = orders.reduce((n, o) => n + o.qty, 0);
    expect(
      Number(await redis.hget(SALES_SUMMARY, `${event}:total_tickets_sold`)),
    ).toBe(tickets);
    expect(
      Number(await redis.hget(SALES_SUMMARY, `${event}:total_sales`)),
    ).toBe(tickets * 20);
  }
  expect(
    Number(await redis.hget(SALES_SUMMARY, 'Opening Ceremony:total_orders')),
  ).toBe(bought.filter((o) => o.event === OPENING_CEREMONY).length);
  expect(await redis.scard(invoicesKey('crash'))).toBe(bought.length);
}

describe('a listeners process killed or stopped: durable listeners lose nothing, and no mode applies an order twice', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let boxOffice: INestApplication;
  let running: ListenersProcess | undefined;
  const env = () => ({ REDIS_URL: server.url, DELIVERY: 'durable' });

  beforeEach(async () => {
    server = await PrivateRedis.start({ appendonly: true });
    redis = server.client();
    boxOffice = await startBoxOffice(server.url);
    for (const name of EVENTS)
      await request(boxOffice.getHttpServer())
        .post('/events')
        .set('Authorization', operatorAuth)
        .send({ name, price: 20 })
        .expect(201);
  });

  afterEach(async () => {
    if (running && !running.exited) await running.kill();
    await boxOffice?.close();
    await server?.destroy();
  });

  /** Buys `count` orders one after another, calling `at(i)` before purchase i. */
  async function stream(
    count: number,
    at: (i: number) => Promise<void>,
  ): Promise<Bought[]> {
    const bought: Bought[] = [];
    for (let i = 0; i < count; i++) {
      await at(i);
      const res = await request(boxOffice.getHttpServer())
        .post('/purchases')
        .send({ event: EVENTS[i % 2], qty: 1 + (i % 4), who: 'crash' })
        .expect(201);
      bought.push(res.body as Bought);
    }
    return bought;
  }

  it('kill -9 mid-stream, restart 2 s later: every order applied exactly once, within 10 s of the restart', async () => {
    running = await ListenersProcess.start(LISTENERS_MAIN, env());
    let restart: Promise<void> = Promise.resolve();
    let restartedAt = 0;
    const bought = await stream(90, async (i) => {
      if (i === 30) {
        await running!.kill();
        // Orders keep coming while the listeners are down; the restart happens 2 s later.
        restart = new Promise((resolve) => setTimeout(resolve, 2000)).then(
          async () => {
            running = await ListenersProcess.start(LISTENERS_MAIN, env());
            restartedAt = Date.now();
          },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    });
    await restart;
    await expectExactlyOnce(
      redis,
      bought,
      Math.max(1000, 10_000 - (Date.now() - restartedAt)),
    );
  });

  it('kill -9 after applying orders from their announcements, before their jobs ran: the next process completes the jobs, applying nothing again', async () => {
    const queues = new GroupQueues(() => server.client());
    const queue = queues.get('durable');
    // No worker takes a job while the queue is paused: the kill lands between the two paths.
    await queue.pause();
    try {
      running = await ListenersProcess.start(LISTENERS_MAIN, env());
      const bought = await stream(6, () => Promise.resolve());
      await waitFor(
        async () => {
          const marks = await Promise.all(
            bought.map((o) =>
              redis.hmget(appliedKey(o.orderId), ...seedListenersFor(o.event)),
            ),
          );
          return marks.every((m) => m.every((mark) => mark === '1'));
        },
        { what: 'every order applied from its announcement' },
      );
      await waitFor(
        async () =>
          (await redis.zcard(OUTBOX)) === 0 &&
          (await queue.getWaitingCount()) > 0,
        { what: 'their jobs queued, waiting' },
      );
      await running.kill();

      await queue.resume();
      running = await ListenersProcess.start(LISTENERS_MAIN, env());
      await waitFor(
        async () =>
          (await queue.getJobCountByTypes('waiting', 'active', 'delayed')) ===
          0,
        { what: 'the jobs completed by the next process' },
      );
      await expectExactlyOnce(redis, bought, 10_000);
    } finally {
      await queues.close();
    }
  });

  it('SIGTERM finishes or releases its active jobs, exits cleanly, and loses nothing', async () => {
    running = await ListenersProcess.start(LISTENERS_MAIN, env());
    let exitCode: number | null = -1;
    const bought = await stream(60, async (i) => {
      if (i === 30) exitCode = await running!.terminate();
    });
    expect(exitCode).toBe(0);
    const queues = new GroupQueues(() => server.client());
    try {
      expect(await queues.get('durable').getActiveCount()).toBe(0);
    } finally {
      await queues.close();
    }
    running = await ListenersProcess.start(LISTENERS_MAIN, env());
    await expectExactlyOnce(redis, bought, 10_000);
  });

  it.each(['ephemeral', 'queued'] as const)(
    '%s: SIGTERM under a stream exits 0 and leaves every order applied once or not at all; what is announced while none runs is not applied',
    async (mode) => {
      running = await ListenersProcess.start(LISTENERS_MAIN, {
        REDIS_URL: server.url,
        DELIVERY: mode,
      });
      let exitCode: number | null = -1;
      const bought = await stream(60, async (i) => {
        if (i === 30) exitCode = await running!.terminate();
      });
      expect(exitCode).toBe(0);
      // An order announced before the stop is applied by sales-summary, or (in flight at
      // the stop, ephemeral) not at all: never half, never twice. None after the stop.
      const marks = await Promise.all(
        bought.map((o) => redis.hget(appliedKey(o.orderId), 'sales-summary')),
      );
      expect(marks.slice(30)).toEqual(new Array<null>(30).fill(null));
      const applied = bought.filter((_, i) => marks[i] === '1');
      expect(applied.length).toBeGreaterThan(0);
      for (const event of EVENTS)
        expect(
          Number(
            await redis.hget(SALES_SUMMARY, `${event}:total_tickets_sold`),
          ),
        ).toBe(
          applied
            .filter((o) => o.event === event)
            .reduce((n, o) => n + o.qty, 0),
        );
    },
  );
});
