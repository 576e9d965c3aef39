import { Keyspace, appliedKey, listenerStatsKey } from '../../index.js';
import { orderKey } from '@podium/orders';
import { PrivateRedis, snapshotKeyspace } from '@podium/testing';
import type { Redis } from 'ioredis';
import type { DeliveryOptions } from '../delivery.options.js';
import { EffectApplier, type EffectEntry } from './effect-applier.js';
import type { Effects, RedisWrite } from './effects.js';

/** Every key with its value and its TTL but the orders (recorded by the tests): what "nothing was written" is compared on. */
async function keyspace(redis: Redis): Promise<Record<string, unknown>> {
  const values = Object.fromEntries(
    Object.entries(await snapshotKeyspace(redis)).filter(
      ([key]) => !key.startsWith(orderKey('')),
    ),
  );
  const ttls = await Promise.all(Object.keys(values).map((k) => redis.pttl(k)));
  return Object.fromEntries(
    Object.entries(values).map(([key, value], i) => [
      key,
      { value, ttl: ttls[i] < 0 ? ttls[i] : Math.round(ttls[i] / 100_000) },
    ]),
  );
}

/** A write that fails in Redis: HINCRBY on a field that holds no integer. */
const FAILING: RedisWrite = ['HINCRBY', 'poisoned', 'field', 1];

describe('EffectApplier', () => {
  let server: PrivateRedis;
  let redis: Redis;
  let applier: EffectApplier;
  let order = 0;
  /** A new order, recorded (an entry applies only where its order is). */
  const nextOrder = async (): Promise<string> => {
    const id = `ORDER${++order}`;
    await redis.hset(orderKey(id), { order_id: id, qty: '1' });
    return id;
  };
  const writes = (...list: RedisWrite[]): Effects => ({ writes: list });

  beforeAll(async () => {
    server = await PrivateRedis.start();
    redis = server.client();
    applier = new EffectApplier(redis, Keyspace.singleRedis, {
      appliedMarkerTtlSeconds: 3600,
    } as DeliveryOptions);
  });
  afterAll(() => server.destroy());
  beforeEach(async () => {
    await redis.flushall();
    await redis.hset('poisoned', 'field', 'not a number');
  });

  it('applies an entry once, marks it, and counts applied, duplicates and skipped', async () => {
    const id = await nextOrder();
    const entry = (listener: string, effects: Effects | null): EffectEntry => ({
      id,
      recordKey: orderKey(id),
      listener,
      effects,
    });
    const first = await applier.apply([
      entry('a', writes(['SADD', 'set', id], ['INCRBY', 'n', 2])),
      entry('b', null),
    ]);
    expect(first).toEqual(['applied', 'skipped']);
    const again = await applier.apply([
      entry('a', writes(['SADD', 'set', id], ['INCRBY', 'n', 2])),
    ]);
    expect(again).toEqual(['duplicate']);
    expect(await redis.get('n')).toBe('2');
    expect(await redis.hgetall(appliedKey(id))).toEqual({
      a: '1',
      b: '0',
    });
    expect(await redis.ttl(appliedKey(id))).toBeGreaterThan(3500);
    expect(await redis.hgetall(listenerStatsKey('a'))).toEqual({
      applied: '1',
      duplicates: '1',
    });
    expect(await redis.hgetall(listenerStatsKey('b'))).toEqual({
      skipped: '1',
    });
  });

  it('applies nothing for an order that is not on the server (a failover lost it after the listeners read it), and marks nothing', async () => {
    // The effects were computed from the order as read (say, from a demoted primary's
    // old data); the server the script runs on has no such order.
    const [missing] = await applier.apply([
      {
        id: 'LOSTINFAILOVER',
        recordKey: orderKey('LOSTINFAILOVER'),
        listener: 'a',
        effects: writes(['INCRBY', 'n', 2]),
      },
    ]);
    expect((missing as Error).message).toMatch(
      /^message not found on this server/,
    );
    expect(await redis.get('n')).toBeNull();
    expect(await redis.exists(appliedKey('LOSTINFAILOVER'))).toBe(0);
    // Where the order is, the same entry applies.
    const id = await nextOrder();
    expect(
      await applier.apply([
        {
          id,
          recordKey: orderKey(id),
          listener: 'a',
          effects: writes(['INCRBY', 'n', 2]),
        },
      ]),
    ).toEqual(['applied']);
  });

  it('runs afterApply once, with the replies, only for entries applied now', async () => {
    const id = await nextOrder();
    const seen: unknown[] = [];
    const effects: Effects = {
      writes: [['INCRBY', 'n', 5]],
      afterApply: (replies: unknown[]) => seen.push(replies),
    };
    await applier.apply([
      { id, recordKey: orderKey(id), listener: 'a', effects },
    ]);
    await applier.apply([
      { id, recordKey: orderKey(id), listener: 'a', effects },
    ]);
    expect(seen).toEqual([[5]]);
  });

  /*
   * All or nothing: each kind of write, made on a key in a known state, then a write that
   * fails. The keyspace (values and TTLs) must be exactly as before, and once the cause is
   * fixed the entry applies once.
   */
  const takenBack: [string, () => Promise<unknown>, RedisWrite[]][] = [
    [
      'hash fields (HSET, HINCRBY, HINCRBYFLOAT, HDEL, HSETNX)',
      () => redis.hset('h', { a: '1', b: '2.5', c: 'x' }),
      [
        ['HSET', 'h', 'a', '10', 'new', 'v'],
        ['HINCRBY', 'h', 'a', 3],
        ['HINCRBYFLOAT', 'h', 'b', '0.25'],
        ['HDEL', 'h', 'c'],
        ['HSETNX', 'h', 'other', 'w'],
      ],
    ],
    [
      'set members (SADD, SREM)',
      () => redis.sadd('s', 'x', 'y'),
      [
        ['SADD', 's', 'z', 'x'],
        ['SREM', 's', 'y'],
      ],
    ],
    [
      'sorted-set members (ZADD with options, ZINCRBY, ZREM)',
      () => redis.zadd('z', 1, 'one', 2.5, 'two'),
      [
        ['ZADD', 'z', 'CH', 5, 'one', 7, 'three'],
        ['ZINCRBY', 'z', 0.5, 'two'],
        ['ZREM', 'z', 'one'],
      ],
    ],
    [
      'strings and bit fields (SET, INCRBY, INCRBYFLOAT, APPEND, BITFIELD, SETBIT, PFADD)',
      async () => {
        await redis.set('str', 'abc');
        await redis.set('num', '41');
        await redis.set('float', '1.5');
        await redis.call('BITFIELD', 'bits', 'SET', 'u32', '#3', '7');
        await redis.pfadd('hll', 'a', 'b');
      },
      [
        ['SET', 'str', 'xyz'],
        ['APPEND', 'str', '!!'],
        ['INCRBY', 'num', 1],
        ['INCRBYFLOAT', 'float', '0.5'],
        ['BITFIELD', 'bits', 'OVERFLOW', 'SAT', 'INCRBY', 'u32', '#3', 2],
        ['SETBIT', 'bits', 1, 1],
        ['PFADD', 'hll', 'c', 'd'],
      ],
    ],
    [
      'one member added or already there, a field set if absent (SADD, HSETNX: undone from their replies)',
      async () => {
        await redis.sadd('members', 'x');
        await redis.hset('fields', 'a', '1');
      },
      [
        ['SADD', 'members', 'new'],
        ['SADD', 'members', 'x'],
        ['HSETNX', 'fields', 'a', '9'],
        ['HSETNX', 'fields', 'fresh', 'v'],
      ],
    ],
    [
      'lists (LPUSH, RPUSH, LTRIM)',
      () => redis.rpush('l', 'a', 'b', 'c', 'd'),
      [
        ['LPUSH', 'l', 'x', 'y'],
        ['RPUSH', 'l', 'z'],
        ['LTRIM', 'l', 1, 3],
      ],
    ],
    [
      'whole keys (DEL, SET over another type) and expiries',
      async () => {
        await redis.sadd('gone', 'a', 'b');
        await redis.hset('typed', 'f', 'v');
        await redis.set('ttl', 'v', 'EX', 1000);
        await redis.set('forever', 'v');
      },
      [
        ['DEL', 'gone'],
        ['SET', 'typed', 'now a string'],
        ['EXPIRE', 'ttl', 5],
        ['PERSIST', 'ttl'],
        ['EXPIRE', 'forever', 50],
      ],
    ],
    [
      'keys that did not exist before (created, then deleted again)',
      () => Promise.resolve(),
      [
        ['HSET', 'fresh-hash', 'f', 'v'],
        ['SADD', 'fresh-set', 'm'],
        ['RPUSH', 'fresh-list', 'a'],
        ['INCR', 'fresh-counter'],
      ],
    ],
  ];

  it.each(takenBack)(
    'takes back %s when a later write fails, then applies once after the fix',
    async (_kind, setUp, list) => {
      await setUp();
      await redis.expire(
        (await redis.keys('*')).find((k) => k !== 'poisoned') ?? 'none',
        900,
      );
      const before = await keyspace(redis);
      const id = await nextOrder();
      const entry = {
        id,
        recordKey: orderKey(id),
        listener: 'l',
        effects: writes(...list, FAILING),
      };

      const [failed] = await applier.apply([entry]);
      expect(failed).toBeInstanceOf(Error);
      expect((failed as Error).message).toMatch(/not an integer/);
      expect(await keyspace(redis)).toEqual(before);

      await redis.hset('poisoned', 'field', '0'); // the cause, fixed
      const fixed = await keyspace(redis);
      expect(await applier.apply([entry])).toEqual(['applied']);
      expect(await applier.apply([entry])).toEqual(['duplicate']);
      expect(await keyspace(redis)).not.toEqual(fixed);
      expect(await redis.hget('poisoned', 'field')).toBe('1');
    },
  );

  it('takes back what a script effect wrote before it raised an error', async () => {
    await redis.hset('summary', 'count', '4');
    const before = await keyspace(redis);
    const script = `
      redis.call('HINCRBY', KEYS[1], 'count', 1)
      redis.call('RPUSH', KEYS[2], ARGV[1])
      if ARGV[2] == 'fail' then error('the listener gave up') end
      return redis.call('HGET', KEYS[1], 'count')`;
    const effects = (mode: string): Effects => ({
      script,
      keys: ['summary', 'winners'],
      args: ['w1', mode],
    });
    const id = await nextOrder();
    const [failed] = await applier.apply([
      {
        id,
        recordKey: orderKey(id),
        listener: 'lottery',
        effects: effects('fail'),
      },
    ]);
    expect((failed as Error).message).toMatch(/the listener gave up/);
    expect(await keyspace(redis)).toEqual(before);

    const drawn: unknown[] = [];
    const [applied] = await applier.apply([
      {
        id,
        recordKey: orderKey(id),
        listener: 'lottery',
        effects: {
          ...effects('go'),
          afterApply: (r: unknown) => drawn.push(r),
        },
      },
    ]);
    expect(applied).toBe('applied');
    expect(drawn).toEqual(['5']);
  });

  it('refuses, before anything is written, a write it could not take back', async () => {
    await redis.rpush('src', 'a');
    const id = await nextOrder();
    const before = await keyspace(redis);
    const [refused] = await applier.apply([
      {
        id,
        recordKey: orderKey(id),
        listener: 'l',
        effects: writes(['SADD', 'fine', 'x'], ['RENAME', 'src', 'dst']),
      },
    ]);
    expect((refused as Error).message).toBe(
      'podium cannot take RENAME back if a later write fails, so effects may not use it',
    );
    expect(await keyspace(redis)).toEqual(before);
  });

  it('takes an entry back to what the entries before it in the batch wrote', async () => {
    await redis.set('expiring', '1', 'EX', 500);
    const [a, b, c] = [await nextOrder(), await nextOrder(), await nextOrder()];
    const outcomes = await applier.apply([
      // a creates both keys and gives one a TTL...
      {
        id: a,
        recordKey: orderKey(a),
        listener: 'l',
        effects: writes(
          ['SADD', 'made', a],
          ['SET', 'expiring', '2', 'EX', 100],
        ),
      },
      // ...b writes to them and fails: they stay as a left them...
      {
        id: b,
        recordKey: orderKey(b),
        listener: 'l',
        effects: writes(['SADD', 'made', b], ['PERSIST', 'expiring'], FAILING),
      },
      // ...and c, after b was taken back, still finds them so.
      {
        id: c,
        recordKey: orderKey(c),
        listener: 'l',
        effects: writes(['SADD', 'made', c]),
      },
    ]);
    expect(outcomes[0]).toBe('applied');
    expect(outcomes[1]).toBeInstanceOf(Error);
    expect(outcomes[2]).toBe('applied');
    expect((await redis.smembers('made')).sort()).toEqual([a, c].sort());
    expect(await redis.get('expiring')).toBe('2');
    expect(await redis.ttl('expiring')).toBeGreaterThan(90);
    expect(await redis.ttl('expiring')).toBeLessThanOrEqual(100);
  });

  it("forgets a key's TTL when an entry's last write changed it, so a later entry taken back keeps the new one", async () => {
    await redis.set('short-lived', 'v', 'EX', 500);
    const [a, b] = [await nextOrder(), await nextOrder()];
    const outcomes = await applier.apply([
      // a's last write runs without undo notes; the batch must still forget the key's TTL...
      {
        id: a,
        recordKey: orderKey(a),
        listener: 'l',
        effects: writes(
          ['APPEND', 'short-lived', '!'],
          ['PERSIST', 'short-lived'],
        ),
      },
      // ...so that b, taken back, leaves the key without one, as a left it.
      {
        id: b,
        recordKey: orderKey(b),
        listener: 'l',
        effects: writes(['APPEND', 'short-lived', '?'], FAILING),
      },
    ]);
    expect(outcomes[0]).toBe('applied');
    expect(outcomes[1]).toBeInstanceOf(Error);
    expect(await redis.get('short-lived')).toBe('v!');
    expect(await redis.ttl('short-lived')).toBe(-1);
  });

  it('applies a batch of orders and listeners, each entry on its own: a failing one does not hold back the others', async () => {
    const ids = await Promise.all(Array.from({ length: 50 }, nextOrder));
    const entries: EffectEntry[] = ids.flatMap((id, i) => [
      {
        id,
        recordKey: orderKey(id),
        listener: 'steady',
        effects: writes(['SADD', 'all', id]),
      },
      {
        id,
        recordKey: orderKey(id),
        listener: 'picky',
        effects:
          i === 7
            ? writes(['SADD', 'picked', id], FAILING)
            : writes(['SADD', 'picked', id]),
      },
    ]);
    const outcomes = await applier.apply(entries);
    expect(outcomes.filter((o) => o === 'applied')).toHaveLength(99);
    expect(outcomes[15]).toBeInstanceOf(Error);
    expect(await redis.scard('all')).toBe(50);
    expect(await redis.sismember('picked', ids[7])).toBe(0);
    expect(await redis.scard('picked')).toBe(49);
    expect(await redis.hget(listenerStatsKey('picky'), 'applied')).toBe('49');
    expect(await redis.hgetall(appliedKey(ids[7]))).toEqual({ steady: '1' });
  });
});
