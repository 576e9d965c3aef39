import { Injectable, Module } from '@nestjs/common';
import { Queue } from 'bullmq';
import {
  AnnouncementDispatcher,
  QUEUE_PREFIX,
  type Effects,
  type ListenerOutcome,
} from '@podium/core';
import {
  addAnnouncement,
  newOrder,
  OnPurchase,
  ORDER,
  ORDERS_CHANNEL,
  type Order,
  type OrderFields,
} from '@podium/orders';
import {
  PrivateRedis,
  startListenerModule,
  waitFor,
  type ListenerModuleTest,
} from '@podium/testing';

/*
 * A durable order has two ways to its listeners: its announcement, applied as soon as it is
 * heard, and its job, the guarantee. Whichever comes first applies it; the other finds the
 * markers and applies nothing: exactly once, in one process or across two, and after a
 * process stopped between the two.
 */

/** Handler runs per order id, across the modules of a test. */
const runs = new Map<string, number>();

@Injectable()
class CountingListener {
  @OnPurchase({ listener: 'counting', channel: ORDERS_CHANNEL })
  count(order: Order): Effects {
    runs.set(order.orderId, (runs.get(order.orderId) ?? 0) + 1);
    return { writes: [['HINCRBY', 'test:applied', order.orderId, 1]] };
  }
}

@Module({ providers: [CountingListener] })
class CountingModule {}

describe('durable: the announcement and the job, applied once', () => {
  let server: PrivateRedis;
  let durableQueue: Queue;
  const started: ListenerModuleTest<Order, OrderFields>[] = [];

  const start = async () => {
    const module = await startListenerModule({
      type: ORDER,
      make: newOrder,
      listeners: [CountingModule],
      mode: 'durable',
      redis: server,
      logger: false,
    });
    started.push(module);
    return module;
  };
  /** The listener's outcomes for an order, across every module started. */
  const outcomesOf = (id: string): ListenerOutcome[] =>
    started.flatMap((m) =>
      m
        .outcomes(id)
        .filter((o) => o.listener === 'counting')
        .map((o) => o.outcome as ListenerOutcome),
    );
  const appliedCount = async (id: string) =>
    Number(await server.client().hget('test:applied', id));
  /** Waits until no job of the durable group is waiting, delayed or active. */
  const jobsDone = () =>
    waitFor(
      async () => {
        const counts = await durableQueue.getJobCounts(
          'waiting',
          'active',
          'delayed',
          'prioritized',
        );
        return Object.values(counts).every((n) => n === 0);
      },
      { what: "every job of group 'durable' done" },
    );

  beforeAll(async () => {
    server = await PrivateRedis.start();
    durableQueue = new Queue('durable', {
      connection: server.client(),
      prefix: QUEUE_PREFIX,
    });
  });
  afterEach(async () => {
    for (const module of started.splice(0)) await module.close();
    await server.client().flushall();
    runs.clear();
  });
  afterAll(async () => {
    await durableQueue.close();
    await server.destroy();
  });

  it('announcement first: the heard order is applied at once, its job then completes and applies nothing', async () => {
    const module = await start();
    await durableQueue.pause(); // the job waits until the announcement was applied
    const order = await module.publish({ event: 'Archery' });
    await waitFor(async () => (await appliedCount(order.orderId)) === 1, {
      what: 'the order applied from its announcement',
    });
    await durableQueue.resume();
    await jobsDone();
    expect(await appliedCount(order.orderId)).toBe(1);
    expect(runs.get(order.orderId)).toBe(1); // the job did not run the handler again
    expect(outcomesOf(order.orderId)).toEqual(['applied']);
    expect(await durableQueue.getCompletedCount()).toBeGreaterThanOrEqual(1);
  });

  it('job first: an order no listener heard is applied by its job; announced afterwards, its marker keeps it from being applied again', async () => {
    const deaf = await start();
    await deaf.transport.close(); // its workers run, it hears nothing
    const order = await deaf.publish({ event: 'Archery' });
    await waitFor(async () => (await appliedCount(order.orderId)) === 1, {
      what: 'the job to apply the order',
    });
    expect(outcomesOf(order.orderId)).toEqual(['applied']);

    // The announcement comes after (another listeners process hears it): its handler runs,
    // the script finds the marker, nothing is written (nor counted: the job came first).
    const late = await start();
    await addAnnouncement(
      server.client().multi(),
      order.orderId,
      order.event,
    ).exec();
    await waitFor(() => runs.get(order.orderId) === 2, {
      what: 'the late announcement handled',
    });
    await late.module.get(AnnouncementDispatcher).drain();
    expect(late.outcomes(order.orderId)).toEqual([]);
    // By design, not a redelivery: GET /listeners shows no duplicate.
    expect(
      await server.client().hget('podium:stats:counting', 'duplicates'),
    ).toBeNull();
    expect(await appliedCount(order.orderId)).toBe(1);
  });

  it('across two listeners processes: each order applied once, whichever process hears it or runs its job', async () => {
    const first = await start();
    await start();
    const orders = [];
    for (let i = 0; i < 40; i++)
      orders.push(await first.publish({ event: 'Archery', who: `fan-${i}` }));
    await jobsDone();
    for (const order of orders)
      await waitFor(async () => (await appliedCount(order.orderId)) === 1, {
        what: `order ${order.orderId} applied`,
      });
    expect(
      await server.client().hget('podium:stats:counting', 'duplicates'),
    ).toBeNull(); // whichever path lost the race: by design, not counted
    for (const order of orders) {
      expect(await appliedCount(order.orderId)).toBe(1);
      expect(
        outcomesOf(order.orderId).filter((o) => o === 'applied'),
      ).toHaveLength(1);
    }
  });

  it('a process that stopped after applying from the announcement, before the job ran: the next one completes the job, applying nothing again', async () => {
    const module = await start();
    // No worker takes the job: it waits, as after a kill between the two paths.
    await durableQueue.pause();
    const order = await module.publish({ event: 'Curling' });
    await waitFor(async () => (await appliedCount(order.orderId)) === 1, {
      what: 'the order applied from its announcement',
    });
    await waitFor(async () => (await durableQueue.getWaitingCount()) === 1, {
      what: 'its job waiting',
    });
    await module.close();
    started.splice(0);

    await durableQueue.resume();
    const next = await start();
    await jobsDone();
    expect(await appliedCount(order.orderId)).toBe(1);
    expect(runs.get(order.orderId)).toBe(1);
    expect(next.outcomes(order.orderId)).toEqual([]);
  });
});
