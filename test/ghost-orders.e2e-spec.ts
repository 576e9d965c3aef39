import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { appliedKey, OUTBOX, readListenerDirectory } from '@podium/core';
import {
  eventKey,
  hearsOrder,
  OPENING_CEREMONY,
  orderFromHash,
  SALES_SUMMARY,
  salesSummaryField,
  type Order,
} from '@podium/orders';
import {
  BoxOfficeProcess,
  ListenersProcess,
  OPERATOR_ENV,
  operatorAuth,
  PrivateRedis,
  waitFor,
} from '@podium/testing';
import { Announcements } from './support/announcements.js';
import { FaultyRecorder } from './support/faulty-recorder.js';
import { queuedOrders } from './support/queued-orders.js';
import { sample } from './support/metrics.js';

/*
 * No ghost orders: a purchase that Redis recorded reaches every durable listener, even when
 * the box office dies between recording it and announcing it. Real processes, killed -9.
 */

const BOX_OFFICE_MAIN = fileURLToPath(
  new URL('../dist/apps/box-office/src/main.js', import.meta.url),
);
/** The listeners app with a sixth listener, the README's (examples/sixth-listener): nothing here counts listeners by hand. */
const LISTENERS_MAIN = fileURLToPath(
  new URL('../dist/examples/sixth-listener/main.js', import.meta.url),
);
const EVENTS = ['Womens Judo', OPENING_CEREMONY];
const CLIENTS = 16;

describe('no ghost orders: every recorded purchase reaches the durable listeners', () => {
  let server: PrivateRedis;
  let redis: Redis;
  const running: (BoxOfficeProcess | ListenersProcess)[] = [];
  const env = () => ({
    REDIS_URL: server.url,
    DELIVERY: 'durable',
    PURCHASE_RATE_LIMIT: '0',
    OUTBOX_GRACE_MS: '1000',
    ...OPERATOR_ENV,
  });

  async function start<T extends BoxOfficeProcess | ListenersProcess>(
    started: Promise<T>,
  ): Promise<T> {
    const process = await started;
    running.push(process);
    return process;
  }

  beforeEach(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
  });

  afterEach(async () => {
    for (const process of running.splice(0))
      if (!process.exited) await process.kill();
    await server?.destroy();
  });

  async function createEvents(boxOffice: BoxOfficeProcess): Promise<void> {
    for (const name of EVENTS) {
      const res = await fetch(`${boxOffice.url}/events`, {
        method: 'POST',
        headers: {
          authorization: operatorAuth,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ name, price: 20, capacity: 1_000_000 }),
      });
      expect(res.status).toBe(201);
    }
  }

  /**
   * CLIENTS clients buy without an Idempotency-Key, each one purchase after another, until
   * the box office stops answering; the box office is killed -9 once `killAfter` purchases
   * were answered, so that many are in flight. Resolves with the orders answered 201.
   */
  async function buyUntilKilled(
    boxOffice: BoxOfficeProcess,
    killAfter: number,
  ): Promise<string[]> {
    const answered: string[] = [];
    let n = 0;
    const client = async (): Promise<void> => {
      for (;;) {
        const i = n++;
        let res: Response;
        try {
          res = await fetch(`${boxOffice.url}/purchases`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              event: EVENTS[i % 2],
              qty: 1 + (i % 4),
              who: `client-${i % CLIENTS}`,
            }),
          });
        } catch {
          return; // the box office is gone: a connection error, as a real client would get
        }
        if (res.status !== 201)
          throw new Error(
            `purchase answered ${res.status}: ${await res.text()}`,
          );
        answered.push(((await res.json()) as { orderId: string }).orderId);
      }
    };
    const clients = Array.from({ length: CLIENTS }, client);
    await waitFor(() => answered.length >= killAfter, {
      what: `${killAfter} purchases answered`,
      timeoutMs: 30_000,
    });
    await boxOffice.kill();
    await Promise.all(clients);
    return answered;
  }

  /** Every order recorded in Redis (the hashes the box office wrote), whether or not its client heard. */
  async function recordedOrders(): Promise<Order[]> {
    const orders: Order[] = [];
    for await (const keys of redis.scanStream({
      match: 'purchase_order_details:*',
      count: 1000,
    }) as AsyncIterable<string[]>) {
      for (const key of keys)
        orders.push(
          orderFromHash(
            key.slice('purchase_order_details:'.length),
            await redis.hgetall(key),
          ),
        );
    }
    return orders;
  }

  /**
   * The recorded orders that some listener hearing them has not settled: every listener the
   * listeners process announced, whose subscription hears the order, must have its marker
   * ('1' applied, '0' skipped: not for it), however many listeners the app runs.
   */
  async function undelivered(orders: Order[]): Promise<Order[]> {
    const listeners = await readListenerDirectory(redis);
    const marks = await Promise.all(
      orders.map((o) => redis.hkeys(appliedKey(o.orderId))),
    );
    return orders.filter((o, i) =>
      listeners.some(
        (l) => hearsOrder(l.pattern, o.event) && !marks[i].includes(l.name),
      ),
    );
  }

  /**
   * Waits until every recorded order is applied by every durable listener and the outbox is
   * empty, then checks that each was applied once and that each event's `sold` counts
   * exactly its recorded orders.
   */
  async function expectNoGhosts(
    answered: string[],
    timeoutMs: number,
  ): Promise<void> {
    const orders = await recordedOrders();
    expect(orders.map((o) => o.orderId)).toEqual(
      expect.arrayContaining(answered),
    );
    let ghosts: Order[] = orders;
    try {
      await waitFor(
        async () => (ghosts = await undelivered(orders)).length === 0,
        { what: 'every recorded order applied', timeoutMs },
      );
    } catch {
      throw new Error(
        `${ghosts.length} of ${orders.length} recorded orders (${orders.length - answered.length} unanswered) were never applied`,
      );
    }
    // An order queued before the kill but not announced is applied from its job; its outbox
    // entry goes once a relay has announced it too, after the grace.
    await waitFor(async () => (await redis.exists(OUTBOX)) === 0, {
      what: 'the outbox to empty',
      timeoutMs,
    });
    for (const event of EVENTS) {
      const tickets = orders
        .filter((o) => o.event === event)
        .reduce((sum, o) => sum + o.qty, 0);
      expect(Number(await redis.hget(eventKey(event), 'sold'))).toBe(tickets);
      expect(
        Number(
          await redis.hget(SALES_SUMMARY, salesSummaryField.ticketsSold(event)),
        ),
      ).toBe(tickets);
    }
    expect(
      Number(
        await redis.hget(
          SALES_SUMMARY,
          salesSummaryField.openingCeremonyOrders,
        ),
      ),
    ).toBe(orders.filter((o) => o.event === OPENING_CEREMONY).length);
  }

  it('box office killed -9 with purchases in flight: the listeners process delivers every recorded order, once', async () => {
    await start(ListenersProcess.start(LISTENERS_MAIN, env()));
    const boxOffice = await start(
      BoxOfficeProcess.start(BOX_OFFICE_MAIN, env()),
    );
    await createEvents(boxOffice);
    const answered = await buyUntilKilled(boxOffice, 300);
    await expectNoGhosts(answered, 30_000);
  });

  it('killed -9 while no listeners process runs: the restarted box office re-drives, the listeners apply once', async () => {
    // A listeners process registers the durable subscription, then stops.
    expect(
      await (
        await start(ListenersProcess.start(LISTENERS_MAIN, env()))
      ).terminate(),
    ).toBe(0);
    const boxOffice = await start(
      BoxOfficeProcess.start(BOX_OFFICE_MAIN, env()),
    );
    await createEvents(boxOffice);
    const answered = await buyUntilKilled(boxOffice, 300);
    await start(BoxOfficeProcess.start(BOX_OFFICE_MAIN, env()));
    // The restarted box office queues every recorded order before any listeners process runs again.
    const orders = await recordedOrders();
    const unqueued = async () => {
      const queued = await queuedOrders(server, 'durable');
      return orders.filter((o) => !queued.has(o.orderId));
    };
    await waitFor(async () => (await unqueued()).length === 0, {
      what: 'a durable job for every recorded order',
      timeoutMs: 30_000,
    }).catch(async () => {
      throw new Error(
        `${(await unqueued()).length} of ${orders.length} recorded orders (${orders.length - answered.length} unanswered) were never queued`,
      );
    });
    await start(ListenersProcess.start(LISTENERS_MAIN, env()));
    await expectNoGhosts(answered, 30_000);
  });

  it('two box offices relay at once: each order left by a failed enqueue is queued and announced once, and applied once', async () => {
    expect(
      await (
        await start(ListenersProcess.start(LISTENERS_MAIN, env()))
      ).terminate(),
    ).toBe(0);
    for (const name of EVENTS)
      await redis.hset(eventKey(name), { name, price: '20', sold: '0' });
    const recorder = await FaultyRecorder.start(server);
    const ghosts = await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        recorder.record({
          event: EVENTS[i % 2],
          qty: 1 + (i % 4),
          cost: String(20 * (1 + (i % 4))),
        }),
      ),
    );
    await recorder.stop();
    expect(await redis.zcard(OUTBOX)).toBe(ghosts.length);

    const announcements = await Announcements.listen(server);
    const relayEnv = {
      ...env(),
      OUTBOX_GRACE_MS: '100',
      OUTBOX_RELAY_INTERVAL_MS: '50',
    };
    const boxOffices = await Promise.all([
      start(BoxOfficeProcess.start(BOX_OFFICE_MAIN, relayEnv)),
      start(BoxOfficeProcess.start(BOX_OFFICE_MAIN, relayEnv)),
    ]);
    await waitFor(async () => (await redis.exists(OUTBOX)) === 0, {
      what: 'the outbox to empty',
      timeoutMs: 30_000,
    });
    await announcements.settle(redis);
    // The record script announced them (before this test listened): the relays only queue.
    expect(ghosts.filter((g) => announcements.count(g.orderId) !== 0)).toEqual(
      [],
    );
    const queued = await queuedOrders(server, 'durable');
    expect(ghosts.filter((g) => queued.get(g.orderId) !== 1)).toEqual([]);
    const redriven = await Promise.all(
      boxOffices.map(
        async (b) =>
          sample(
            await (await fetch(`${b.url}/metrics`)).text(),
            'podium_outbox_redriven_total',
          ) ?? 0,
      ),
    );
    expect(redriven[0] + redriven[1]).toBe(ghosts.length);

    await start(ListenersProcess.start(LISTENERS_MAIN, env()));
    await expectNoGhosts([], 30_000);
    for (const listener of [
      'sales-summary',
      'customer-invoices',
      'sales-histogram',
    ]) {
      expect(
        await redis.hget(`podium:stats:${listener}`, 'duplicates'),
      ).toBeNull();
    }
  });
});
