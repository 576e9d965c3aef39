import { PrivateRedis, RedisEndpoint, waitFor } from '@podium/testing';
import type { Redis } from 'ioredis';
import { livenessOf } from './connection-liveness.js';
import {
  createRedis,
  createSubscriber,
  type RedisClient,
} from './redis-connection.js';
import { redisTargetFrom, type RedisTarget } from './redis-target.js';

/** What the server knows of the connections named `name`: their CLIENT IDs. */
async function clientIds(admin: Redis, name: string): Promise<string[]> {
  const list = (await admin.client('LIST')) as string;
  return list
    .split('\n')
    .filter((line) => line.includes(` name=${name} `))
    .map((line) => /^id=(\d+)/.exec(line)![1]);
}

/** How many PINGs the server answered so far. */
async function pings(admin: Redis): Promise<number> {
  const stats = await admin.info('commandstats');
  return Number(/cmdstat_ping:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

describe('ConnectionLiveness: every connection is checked with a heartbeat', () => {
  let redis: PrivateRedis;
  let admin: Redis;
  let endpoint: RedisEndpoint;
  let target: RedisTarget;
  const connections: RedisClient[] = [];
  const connect = (make: () => RedisClient) => {
    const connection = make();
    connections.push(connection);
    return connection;
  };

  beforeAll(async () => {
    redis = await PrivateRedis.start();
    admin = redis.client();
  });
  beforeEach(async () => {
    endpoint = await RedisEndpoint.start(redis);
    // A short bound, so the test is quick: 1.5 s.
    target = redisTargetFrom({
      REDIS_URL: endpoint.url,
      REDIS_LIVENESS_TIMEOUT_MS: 1500,
    });
  });
  afterEach(async () => {
    for (const connection of connections.splice(0)) connection.disconnect();
    await endpoint.close();
  });
  afterAll(async () => {
    admin.disconnect();
    await redis.stop();
  });

  it('an idle subscriber answers its heartbeats and keeps its one connection', async () => {
    const subscriber = connect(() =>
      createSubscriber(target, 'idle-sub', { autoPipelining: false }),
    ) as Redis;
    await subscriber.subscribe('quiet-channel');
    const [id] = await clientIds(admin, 'idle-sub');
    const before = await pings(admin);
    // A heartbeat every quarter of the bound while nothing else comes: wait for several.
    await waitFor(async () => (await pings(admin)) >= before + 4, {
      what: 'four heartbeats of the idle subscriber',
    });
    expect(await clientIds(admin, 'idle-sub')).toEqual([id]);
    expect(livenessOf(target).replaced()).toEqual([]);
    expect(livenessOf(target).silent()).toEqual([]);
    // Still subscribed and hearing.
    const heard = new Promise((resolve) =>
      subscriber.once('message', (_channel, message) => resolve(message)),
    );
    await admin.publish('quiet-channel', 'hello');
    expect(await heard).toBe('hello');
  });

  it('a connection waiting in a blocking command longer than the bound is not dropped', async () => {
    const connection = connect(() =>
      createRedis(target, 'blocking', { autoPipelining: false }),
    ) as Redis;
    await connection.ping();
    const [id] = await clientIds(admin, 'blocking');
    // 3 s of BLPOP, twice the bound: quiet by design.
    expect(await connection.blpop('nothing-comes', 3)).toBeNull();
    expect(await clientIds(admin, 'blocking')).toEqual([id]);
    expect(livenessOf(target).replaced()).toEqual([]);
  });

  it('a subscriber whose network goes silent is replaced within the bound, subscribes again, and says so', async () => {
    const subscriber = connect(() =>
      createSubscriber(target, 'cut-sub', { autoPipelining: false }),
    ) as Redis;
    const command = connect(() => createRedis(target, 'cut-command'));
    const heard: string[] = [];
    subscriber.on('message', (_channel, message: string) =>
      heard.push(message),
    );
    await subscriber.subscribe('announcements');
    await command.set('k', '1');
    const [subscriberId] = await clientIds(admin, 'cut-sub');
    expect(endpoint.silence()).toBe(2);
    const silencedAt = Date.now();
    // A command sent on the silent connection waits, then runs once it is replaced.
    const pending = command.get('k');
    // While silent past the bound, readiness would say so.
    await waitFor(() => livenessOf(target).silent().length > 0, {
      what: 'the silent connections to be reported',
    });
    await waitFor(
      async () => {
        const ids = await clientIds(admin, 'cut-sub');
        return ids.some((id) => id !== subscriberId) && ids;
      },
      { what: 'a new subscriber connection', timeoutMs: 5000 },
    );
    const replacedAfter = Date.now() - silencedAt;
    expect(await pending).toBe('1');
    await waitFor(
      async () => {
        await admin.publish('announcements', 'after the cut');
        return heard.includes('after the cut');
      },
      { what: 'the new subscriber to hear announcements' },
    );
    expect(livenessOf(target).replaced()).toEqual(
      expect.arrayContaining([
        { connection: 'cut-sub', reason: 'silent', count: 1 },
        { connection: 'cut-command', reason: 'silent', count: 1 },
      ]),
    );
    await waitFor(() => livenessOf(target).silent().length === 0, {
      what: 'no connection reported silent once both are back',
    });
    // Replaced once the bound (1.5 s) passed, not long after.
    expect(replacedAfter).toBeGreaterThanOrEqual(1500);
    console.log(`silent connection replaced ${replacedAfter} ms after the cut`);
  });
});
