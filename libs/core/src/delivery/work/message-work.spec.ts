import { Keyspace, appliedKey } from '../../index.js';
import {
  orderKey,
  orderToHash,
  ORDERS_CHANNEL,
  type Order,
  newOrder,
  ORDER,
} from '@podium/orders';
import { PrivateRedis, waitFor } from '@podium/testing';
import { jest } from '@jest/globals';
import type { Redis } from 'ioredis';
import type { DeliveryOptions } from '../delivery.options.js';
import { EffectApplier } from '../effects/effect-applier.js';
import type { Effects, RedisWrite } from '../effects/effects.js';
import type { RunningListener } from '../listener-group.js';
import { MessageLoader } from './message-loader.js';
import {
  MessageWork,
  type WorkOutcome,
  type WorkItem,
} from './message-work.js';

const OPTIONS = { appliedMarkerTtlSeconds: 3600 } as DeliveryOptions;

/** Calls of a command since the server started (INFO commandstats). */
async function commandCalls(redis: Redis, command: string): Promise<number> {
  const info = await redis.info('commandstats');
  return Number(
    new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0,
  );
}

/** A listener of the group under test; `calls` counts its handler's runs per order. */
function listener(
  name: string,
  handle: (order: Order) => ReturnType<RunningListener['handle']>,
): RunningListener & { calls: Map<string, number> } {
  const calls = new Map<string, number>();
  return {
    name,
    pattern: ORDERS_CHANNEL,
    oneSlot: false,
    type: ORDER,
    mode: 'ephemeral',
    group: 'work',
    calls,
    handle: (order: Order) => {
      calls.set(order.orderId, (calls.get(order.orderId) ?? 0) + 1);
      return handle(order);
    },
  };
}

/** Each order for every listener given. */
const itemsFor = (
  ids: readonly string[],
  ...listeners: RunningListener[]
): WorkItem[] => ids.map((id) => ({ id, select: () => listeners }));

/** Per order, per listener: its outcome (and where it failed). */
const summary = (outcomes: WorkOutcome[]) =>
  outcomes.map(({ id, results, rejected, unread }) => ({
    id,
    ...(rejected && { rejected: rejected.message, poison: rejected.poison }),
    ...(unread && { unread: unread.message }),
    results: Object.fromEntries(
      results.map((r) => [
        r.listener.name,
        r.failedIn ? `${r.outcome} in ${r.failedIn}` : r.outcome,
      ]),
    ),
  }));

/** Counts the order in hash `test:<name>`: a second application would show as 2. */
const counting =
  (name: string) =>
  (order: Order): Effects => ({
    writes: [['HINCRBY', `test:${name}`, order.orderId, 1]],
  });

describe('MessageWork', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let work: MessageWork;

  const recorded = async (fields: Partial<Order> = {}): Promise<Order> => {
    const order = newOrder({ event: 'Womens Judo', ...fields });
    await redis.hset(orderKey(order.orderId), orderToHash(order));
    return order;
  };

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
  });
  afterAll(() => server.destroy());
  afterEach(() => jest.restoreAllMocks());
  beforeEach(async () => {
    await redis.flushall();
    work = new MessageWork(
      new MessageLoader(redis),
      new EffectApplier(redis, Keyspace.singleRedis, OPTIONS),
    );
  });

  it("runs each listener's handler on each order of the batch, and applies all their effects in one script", async () => {
    const orders = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        recorded({ event: i % 2 ? 'Womens Judo' : 'Curling' }),
      ),
    );
    const ids = orders.map((o) => o.orderId);
    const all = listener('all', counting('all'));
    const judo = listener('judo', (order) =>
      order.event === 'Womens Judo' ? counting('judo')(order) : null,
    );
    const curling = listener('curling', counting('curling'));
    const reads = jest.spyOn(redis, 'hgetall');
    const scripts = await commandCalls(redis, 'evalsha');

    // `select` gets the order as loaded: the curling listener runs on Curling's orders only.
    const outcomes = await work.run(
      ORDER,
      ids.map((id) => ({
        id,
        select: (order: Order) =>
          order.event === 'Curling' ? [all, judo, curling] : [all, judo],
      })),
    );
    expect(summary(outcomes)).toEqual(
      orders.map(({ orderId, event }) => ({
        id: orderId,
        results:
          event === 'Curling'
            ? { all: 'applied', judo: 'skipped', curling: 'applied' }
            : { all: 'applied', judo: 'applied' },
      })),
    );
    expect(reads.mock.calls).toEqual(ids.map((id) => [orderKey(id)]));
    expect((await commandCalls(redis, 'evalsha')) - scripts).toBe(1);
    expect(Object.keys(await redis.hgetall('test:all')).sort()).toEqual(
      [...ids].sort(),
    );
    expect(await redis.hgetall(appliedKey(ids[0]))).toEqual({
      all: '1',
      judo: '0',
      curling: '1',
    });

    // The same batch again: every entry is a duplicate, nothing is written twice.
    const again = await work.run(ORDER, itemsFor(ids, all, judo));
    expect(again.flatMap((o) => o.results.map((r) => r.outcome))).not.toContain(
      'applied',
    );
    expect(Object.values(await redis.hgetall('test:all'))).toEqual(
      Array(10).fill('1'),
    );
  });

  it('a handler that throws, or whose promise rejects, fails that order for that listener alone', async () => {
    const [fine, broken, late] = [
      await recorded(),
      await recorded({ who: 'broken' }),
      await recorded({ who: 'late' }),
    ];
    const steady = listener('steady', counting('steady'));
    const fragile = listener('fragile', (order) => {
      if (order.who === 'broken') throw new Error(`cannot bill ${order.who}`);
      if (order.who === 'late')
        return Promise.reject(new Error('the rates did not come'));
      return counting('fragile')(order);
    });
    const outcomes = await work.run(
      ORDER,
      itemsFor(
        [fine, broken, late].map((o) => o.orderId),
        steady,
        fragile,
      ),
    );
    expect(summary(outcomes).map((o) => o.results)).toEqual([
      { steady: 'applied', fragile: 'applied' },
      { steady: 'applied', fragile: 'failed in handler' },
      { steady: 'applied', fragile: 'failed in handler' },
    ]);
    expect(outcomes[1].results[1].error?.message).toBe('cannot bill broken');
    expect(outcomes[2].results[1].error?.message).toBe(
      'the rates did not come',
    );
    expect(await redis.hgetall(appliedKey(broken.orderId))).toEqual({
      steady: '1',
    });
    expect(Object.keys(await redis.hgetall('test:fragile'))).toEqual([
      fine.orderId,
    ]);
  });

  it('effects that Redis refuses fail in Redis, for that entry alone', async () => {
    await redis.hset('poisoned', 'field', 'not a number');
    const [fine, refused] = [await recorded(), await recorded({ who: 'x' })];
    const steady = listener('steady', counting('steady'));
    const writer = listener('writer', (order) => {
      const writes: RedisWrite[] = [['SADD', 'test:writer', order.orderId]];
      if (order.who === 'x') writes.push(['HINCRBY', 'poisoned', 'field', 1]);
      return { writes };
    });
    const outcomes = await work.run(
      ORDER,
      itemsFor([fine.orderId, refused.orderId], steady, writer),
    );
    expect(summary(outcomes).map((o) => o.results)).toEqual([
      { steady: 'applied', writer: 'applied' },
      { steady: 'applied', writer: 'failed in redis' },
    ]);
    expect(outcomes[1].results[1].error?.message).toMatch(/not an integer/);
    expect(await redis.smembers('test:writer')).toEqual([fine.orderId]);
  });

  it('rejects, order by order, a message that names no readable order: not an order id, no such order, a malformed hash (poison: it can be fixed)', async () => {
    const good = await recorded();
    const unknown = newOrder({ event: 'Womens Judo' }).orderId;
    const malformed = (await recorded()).orderId;
    await redis.hset(orderKey(malformed), 'cost', 'free');
    const tooLong = `A${'B'.repeat(200)}`;
    const steady = listener('steady', counting('steady'));
    const reads = jest.spyOn(redis, 'hgetall');

    const outcomes = await work.run(
      ORDER,
      itemsFor(
        ['two words', '', tooLong, unknown, malformed, good.orderId],
        steady,
      ),
    );
    expect(summary(outcomes)).toEqual([
      {
        id: 'two words',
        rejected: 'payload is not a message id: "two words"',
        poison: false,
        results: {},
      },
      {
        id: '',
        rejected: 'payload is not a message id: ""',
        poison: false,
        results: {},
      },
      {
        id: tooLong,
        rejected: `payload is not a message id: "${tooLong.slice(0, 80)}"`,
        poison: false,
        results: {},
      },
      {
        id: unknown,
        rejected: `no order "${unknown}" (key ${orderKey(unknown)} does not exist)`,
        poison: false,
        results: {},
      },
      {
        id: malformed,
        rejected: `order ${malformed}: field "cost" is not a decimal number`,
        poison: true,
        results: {},
      },
      { id: good.orderId, results: { steady: 'applied' } },
    ]);
    // What is not an order id is not even read; no handler ran on a rejected message.
    expect(reads.mock.calls).toEqual(
      [unknown, malformed, good.orderId].map((id) => [orderKey(id)]),
    );
    expect([...steady.calls.keys()]).toEqual([good.orderId]);

    // The poison order, fixed, is read and applied.
    await redis.hset(orderKey(malformed), 'cost', '10');
    const [fixed] = await work.run(ORDER, itemsFor([malformed], steady));
    expect(summary([fixed])[0].results).toEqual({ steady: 'applied' });
  });

  it('an order Redis cannot give is unread: none of its listeners runs, the rest of the batch goes on', async () => {
    const good = await recorded();
    const unreadable = newOrder({ event: 'Womens Judo' }).orderId;
    await redis.set(orderKey(unreadable), 'not a hash');
    const steady = listener('steady', counting('steady'));
    const outcomes = await work.run(
      ORDER,
      itemsFor([unreadable, good.orderId], steady),
    );
    expect(outcomes[0].unread?.message).toMatch(/^WRONGTYPE/);
    expect(outcomes[0].results).toEqual([]);
    expect(outcomes[0].rejected).toBeUndefined();
    expect(summary(outcomes)[1].results).toEqual({ steady: 'applied' });
    expect([...steady.calls.keys()]).toEqual([good.orderId]);
  });

  it('never rejects: Redis gone before the read leaves every order unread, gone before the script fails every entry in Redis', async () => {
    const order = await recorded();
    const steady = listener('steady', counting('steady'));
    const fragile = listener('fragile', () => {
      throw new Error('always');
    });
    const gone = server.client();
    await gone.ping();
    gone.disconnect();

    const unread = await new MessageWork(
      new MessageLoader(gone),
      new EffectApplier(redis, Keyspace.singleRedis, OPTIONS),
    ).run(ORDER, itemsFor([order.orderId], steady));
    expect(unread[0].unread?.message).toBe('Connection is closed.');
    expect(steady.calls.size).toBe(0);

    const [refused] = await new MessageWork(
      new MessageLoader(redis),
      new EffectApplier(gone, Keyspace.singleRedis, OPTIONS),
    ).run(ORDER, itemsFor([order.orderId], steady, fragile));
    expect(summary([refused])[0].results).toEqual({
      steady: 'failed in redis',
      fragile: 'failed in handler',
    });
    expect(refused.results[0].error?.message).toBe('Connection is closed.');
    expect(refused.results[1].error?.message).toBe('always');
    expect(await redis.exists(appliedKey(order.orderId))).toBe(0);
  });

  describe('sequence', () => {
    /** A listener that appends `tag` to test:sequence, holding its handler until `open()` when gated. */
    function appender(tag: string, gated = false) {
      let open = (): void => undefined;
      const gate = gated
        ? new Promise<void>((resolve) => (open = resolve))
        : Promise.resolve();
      const appending = listener(`append-${tag}`, async () => {
        await gate;
        return { writes: [['RPUSH', 'test:sequence', tag]] };
      });
      return { listener: appending, open };
    }

    /** Starts a slow run (A, held in its handler) and then a quick one (B); A is let go once B's handler ran. */
    async function race(
      keys: [string | undefined, string | undefined],
    ): Promise<string[]> {
      const [a, b] = [appender('A', true), appender('B')];
      const [orderA, orderB] = [await recorded(), await recorded()];
      const runA = work.run(ORDER, itemsFor([orderA.orderId], a.listener), {
        sequence: keys[0],
      });
      const runB = work.run(ORDER, itemsFor([orderB.orderId], b.listener), {
        sequence: keys[1],
      });
      await waitFor(() => b.listener.calls.size === 1, {
        what: "B's handler to run",
      });
      a.open();
      await Promise.all([runA, runB]);
      return redis.lrange('test:sequence', 0, -1);
    }

    it('the scripts of runs with the same key reach Redis in the order the runs were started', async () => {
      expect(await race(['work', 'work'])).toEqual(['A', 'B']);
    });

    it('runs without a key, or with different keys, do not wait for each other', async () => {
      expect(await race([undefined, undefined])).toEqual(['B', 'A']);
      await redis.del('test:sequence');
      expect(await race(['one', 'other'])).toEqual(['B', 'A']);
    });

    it('a run with nothing to apply does not hold up the next', async () => {
      const steady = listener('steady', counting('steady'));
      const order = await recorded();
      const [nothing, next] = await Promise.all([
        work.run(ORDER, itemsFor(['not an id'], steady), { sequence: 'work' }),
        work.run(ORDER, itemsFor([order.orderId], steady), {
          sequence: 'work',
        }),
      ]);
      expect(nothing[0].rejected).toBeDefined();
      expect(summary(next)[0].results).toEqual({ steady: 'applied' });
    });
  });

  it('fresh: reads the order again, so a run after the order was fixed sees the fix', async () => {
    const order = await recorded({ who: 'nobody' });
    const invoices = listener('invoices', (o) => {
      if (o.who === 'nobody') throw new Error('no customer to bill');
      return counting('invoices')(o);
    });
    const items = itemsFor([order.orderId], invoices);
    const outcome = async (fresh?: boolean) =>
      summary(await work.run(ORDER, items, { fresh }))[0].results.invoices;

    expect(await outcome()).toBe('failed in handler');
    await redis.hset(orderKey(order.orderId), 'who', 'a customer');
    expect(await outcome()).toBe('failed in handler'); // the order as it was read
    expect(await outcome(true)).toBe('applied');
    expect(await redis.hget('test:invoices', order.orderId)).toBe('1');
  });
});
