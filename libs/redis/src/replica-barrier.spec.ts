import { Cluster, type Redis } from 'ioredis';
import { ClusterTopology, PrivateRedis, waitFor } from '@podium/testing';
import type { FailoverSignal } from './failover-signal.js';
import { ReplicaBarrier } from './replica-barrier.js';
import { createRedis } from './redis-connection.js';
import { redisTargetFromUrl } from './redis-target.js';
import { UnreplicatedError } from './wait-for-replicas.js';

/** WAITs the server has run so far. */
async function waits(server: PrivateRedis): Promise<number> {
  const line = (await server.info('commandstats')).cmdstat_wait ?? 'calls=0';
  return Number(/calls=(\d+)/.exec(line)![1]);
}

const reason = (promise: Promise<void>) =>
  promise.then(
    () => 'confirmed',
    (err: unknown) =>
      err instanceof UnreplicatedError ? err.reason : String(err),
  );

describe('ReplicaBarrier, on a primary with one replica', () => {
  let primary: PrivateRedis;
  let replica: PrivateRedis;
  let connection: Redis;

  beforeAll(async () => {
    primary = await PrivateRedis.start();
    replica = await PrivateRedis.start({ replicaOf: primary });
    await replica.waitForSync();
    connection = createRedis(
      redisTargetFromUrl(primary.url),
      'barrier-test',
    ) as Redis;
  });
  afterAll(async () => {
    connection.disconnect();
    await Promise.all([primary.destroy(), replica.destroy()]);
  });

  it('confirms a write once the replica has it, and concurrent callers share WAITs', async () => {
    // A generous timeout: on a busy machine the replica may take a while to acknowledge.
    const barrier = new ReplicaBarrier(1, 1500);
    const before = await waits(primary);
    await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const written = barrier.watch(connection);
        await connection.set(`seat:${i}`, 'sold');
        await written.confirmed();
        // Confirmed means the replica has it (no wait needed here).
        expect(await replica.call('GET', `seat:${i}`)).toBe('sold');
      }),
    );
    // One round in flight at a time: far fewer WAITs than callers.
    expect((await waits(primary)) - before).toBeLessThan(20);
  });

  it('confirms writes watched while the connection was still being made', async () => {
    const fresh = createRedis(
      redisTargetFromUrl(primary.url),
      'fresh',
    ) as Redis;
    try {
      const written = new ReplicaBarrier(1, 1500).watch(fresh);
      await fresh.set('early-seat', 'sold'); // queued until the first connection is ready
      expect(await reason(written.confirmed())).toBe('confirmed');
    } finally {
      fresh.disconnect();
    }
  });

  it('with 0 replicas asked it confirms at once and sends nothing', async () => {
    const before = await waits(primary);
    await new ReplicaBarrier(0, 500).watch(connection).confirmed();
    expect(await waits(primary)).toBe(before);
  });

  it('too few replicas within the timeout: UnreplicatedError', async () => {
    const started = Date.now();
    expect(
      await reason(new ReplicaBarrier(2, 200).watch(connection).confirmed()),
    ).toBe('too-few-replicas');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('not confirmed across a reconnect of the connection, nor across a failover, even with enough replicas', async () => {
    const barrier = new ReplicaBarrier(1, 1500);
    const written = barrier.watch(connection);
    await connection.set('seat', 'sold');
    const confirmed = reason(written.confirmed());
    connection.disconnect(true); // before the WAIT is sent: it goes on the next connection
    expect(await confirmed).toBe('reconnected');
    await waitFor(() => connection.status === 'ready', {
      what: 'the connection to be back',
    });

    const signal = { epoch: 0, failingOver: false };
    const watched = new ReplicaBarrier(
      1,
      1500,
      signal satisfies FailoverSignal,
    );
    const before = watched.watch(connection);
    signal.epoch++; // a failover was seen since the write
    expect(await reason(before.confirmed())).toBe('failover');
    signal.failingOver = true; // one under way
    expect(await reason(watched.watch(connection).confirmed())).toBe(
      'failover',
    );
    signal.failingOver = false;
    await watched.watch(connection).confirmed();
  });

  it('the replica gone: writes are not confirmed until it is back', async () => {
    await replica.stop();
    const barrier = new ReplicaBarrier(1, 100);
    expect(await reason(barrier.watch(connection).confirmed())).toBe(
      'too-few-replicas',
    );
    await replica.start();
    await replica.waitForSync();
    await new ReplicaBarrier(1, 1500).watch(connection).confirmed();
  });
});

describe('ReplicaBarrier, on a Redis Cluster (3 primaries, a replica each)', () => {
  let cluster: ClusterTopology;

  beforeAll(async () => {
    cluster = await ClusterTopology.start({
      primaries: 3,
      replicasPerPrimary: 1,
    });
  });
  afterAll(() => cluster?.destroy());

  it('confirms writes watched before the client knew the slots (its first command), on each slot written', async () => {
    const fresh = createRedis(
      {
        kind: 'cluster',
        nodes: cluster.seeds,
        login: { db: 0, tls: false },
      },
      'fresh-cluster',
      { autoPipelining: false }, // as the queue connection the box office watches
    ) as Cluster;
    try {
      expect(fresh.slots).toHaveLength(0);
      const keys = ['{a}:seat', '{b}:seat', '{c}:seat'];
      const written = new ReplicaBarrier(1, 1500).watch(fresh, keys);
      // Sent once the client has the slots, to each slot's primary then.
      await Promise.all(keys.map((key) => fresh.set(key, 'sold')));
      expect(await reason(written.confirmed())).toBe('confirmed');
    } finally {
      fresh.disconnect();
    }
  });
});
