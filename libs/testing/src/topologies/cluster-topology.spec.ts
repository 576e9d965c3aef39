import { Redis } from 'ioredis';
import type { PrivateRedis } from '../private-redis.js';
import { closeClient } from '../redis-call.js';
import { waitFor } from '../wait-for.js';
import { ClusterTopology } from './cluster-topology.js';

/** A key that `primary` serves, found by asking the cluster for slots. */
async function keyServedBy(
  cluster: ClusterTopology,
  primary: PrivateRedis,
): Promise<string> {
  for (let i = 0; i < 1000; i += 1) {
    const key = `seat:${i}`;
    if ((await cluster.primaryOfKey(key)) === primary) return key;
  }
  throw new Error(`no key found on port ${primary.port}`);
}

/** Reads a key on a replica, which answers reads in cluster mode after READONLY. */
async function readOnReplica(replica: PrivateRedis, key: string) {
  const client = new Redis({ ...replica.connectionOptions, lazyConnect: true });
  try {
    await client.connect();
    await client.readonly();
    return await client.get(key);
  } finally {
    await closeClient(client);
  }
}

describe('ClusterTopology', () => {
  let cluster: ClusterTopology | undefined;
  afterAll(() => cluster?.destroy());

  it('serves a key on every primary, replicates it, and survives kill -9 of a primary and a planned failover', async () => {
    cluster = await ClusterTopology.start();
    expect(cluster.nodes).toHaveLength(6);
    expect(cluster.nodesEnv).toBe(
      cluster.seeds.map(({ port }) => `127.0.0.1:${port}`).join(','),
    );
    const primaries = await cluster.primaries();
    expect(primaries).toHaveLength(3);
    expect(await cluster.primaryOfSlot(0)).toBe(primaries[0]);
    expect(await cluster.primaryOfSlot(16383)).toBe(primaries[2]);

    const client = cluster.client();
    const keys: string[] = [];
    for (const primary of primaries) {
      const key = await keyServedBy(cluster, primary);
      keys.push(key);
      await client.set(key, `on ${primary.port}`);
      expect(await primary.call('GET', key)).toBe(`on ${primary.port}`);
      const [replica] = await cluster.replicasOf(primary);
      expect(replica).toBeDefined();
      await replica.waitForSync();
      expect(await readOnReplica(replica, key)).toBe(`on ${primary.port}`);
    }

    // kill -9 of the first primary: its replica takes its slots and the client follows.
    const [replica] = await cluster.replicasOf(primaries[0]);
    const killed = await cluster.killPrimary(0);
    expect(killed).toBe(primaries[0]);
    await cluster.waitForHealthy({ timeoutMs: 15_000 });
    expect(await cluster.primaryOfKey(keys[0])).toBe(replica);
    expect((await replica.role()).role).toBe('master');
    await waitFor(
      async () => (await client.set(keys[0], 'after the kill')) === 'OK',
      { what: 'a write to the killed primary’s slots', timeoutMs: 10_000 },
    );
    expect(await client.get(keys[1])).toBe(`on ${primaries[1].port}`);

    // The killed primary comes back as a replica of the one that took over.
    await killed.start();
    await waitFor(
      async () => {
        const role = await killed.role();
        return role.role === 'replica' && role.primary.port === replica.port;
      },
      { what: 'the killed primary to rejoin as a replica', timeoutMs: 10_000 },
    );
    await killed.waitForSync();
    expect(await readOnReplica(killed, keys[0])).toBe('after the kill');

    // A planned failover of the second primary.
    const [standby] = await cluster.replicasOf(primaries[1]);
    const old = await cluster.failover(standby);
    expect(old).toBe(primaries[1]);
    expect(await cluster.primaryOfKey(keys[1])).toBe(standby);
    expect((await old.role()).role).toBe('replica');
    await waitFor(async () => (await cluster!.replicasOf(standby))[0] === old, {
      what: 'the cluster to list the old primary as a replica',
    });
    await waitFor(
      async () => (await client.set(keys[1], 'after the failover')) === 'OK',
      { what: 'a write after the planned failover', timeoutMs: 10_000 },
    );
    expect(await standby.call('GET', keys[1])).toBe('after the failover');
  });

  it('starts 3 primaries with 2 replicas each', async () => {
    const big = await ClusterTopology.start({ replicasPerPrimary: 2 });
    try {
      expect(big.nodes).toHaveLength(9);
      const primaries = await big.primaries();
      expect(primaries).toHaveLength(3);
      for (const primary of primaries) {
        expect(await big.replicasOf(primary)).toHaveLength(2);
      }
      const client = big.client();
      await client.set('seat', 'A1');
      // Replication is asynchronous: the replicas have the write before the kill.
      const primary = await big.primaryOfKey('seat');
      for (const replica of await big.replicasOf(primary))
        await replica.waitForSync();
      const killed = await big.killPrimary(primary);
      await big.waitForHealthy();
      expect(await big.primaryOfKey('seat')).not.toBe(killed);
      expect(await client.get('seat')).toBe('A1');
    } finally {
      await big.destroy();
    }
  });

  it('starts 1 primary (made by hand: redis-cli wants 3) with a replica, and a spare without slots that still hears every PUBLISH', async () => {
    const small = await ClusterTopology.start({
      primaries: 1,
      replicasPerPrimary: 1,
      spares: 1,
    });
    try {
      expect(small.nodes).toHaveLength(2);
      expect(small.spares).toHaveLength(1);
      expect(small.nodesEnv).not.toContain(String(small.spares[0].port));
      const [primary] = await small.primaries();
      expect(await small.replicasOf(primary)).toHaveLength(1);
      expect(await small.primaryOfSlot(16383)).toBe(primary);
      const client = small.client();
      await client.set('seat', 'A1');
      expect(await client.get('seat')).toBe('A1');
      const spare = small.spares[0];
      expect(await spare.call('DBSIZE')).toBe(0);
      const heard = new Redis(spare.connectionOptions);
      try {
        const got = new Promise<string>((resolve) =>
          heard.on('message', (_channel: string, message: string) =>
            resolve(message),
          ),
        );
        await heard.subscribe('announcements');
        await primary.call('PUBLISH', 'announcements', 'order-1');
        expect(await got).toBe('order-1');
      } finally {
        await closeClient(heard);
      }
    } finally {
      await small.destroy();
    }
  });
});
