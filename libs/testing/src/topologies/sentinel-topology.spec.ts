import { Redis } from 'ioredis';
import { waitFor } from '../wait-for.js';
import { SentinelTopology } from './sentinel-topology.js';

describe('SentinelTopology', () => {
  let topology: SentinelTopology | undefined;
  let client: Redis | undefined;
  afterAll(async () => {
    client?.disconnect();
    await topology?.destroy();
  });

  it('replicates, fails over when the primary is killed and on request, and clients find the new primary through the Sentinels', async () => {
    topology = await SentinelTopology.start();
    expect(topology.name).toBe('podium');
    expect(topology.nodes).toHaveLength(3);
    expect(topology.sentinels).toHaveLength(3);
    expect(topology.sentinelsEnv).toBe(
      topology.sentinels.map(({ port }) => `127.0.0.1:${port}`).join(','),
    );

    const first = await topology.primary();
    expect((await first.role()).role).toBe('master');
    const replicas = topology.nodes.filter((node) => node !== first);
    await first.call('SET', 'seat', 'A1');
    for (const replica of replicas) {
      await replica.waitForSync();
      expect(await replica.call('GET', 'seat')).toBe('A1');
    }

    // A client of the application's kind: it asks the Sentinels where the primary is. With
    // the failover detector it leaves the old primary as soon as the Sentinels switch; without,
    // after a planned failover it would stay on the old primary, still a master, for 8-20 s.
    client = new Redis({
      sentinels: topology.sentinels,
      name: topology.name,
      failoverDetector: true,
      maxRetriesPerRequest: null,
      retryStrategy: () => 50,
      sentinelRetryStrategy: () => 50,
    });
    client.on('error', () => undefined);
    await client.set('via', 'sentinel');

    // kill -9 of the primary: the Sentinels elect a replica, which takes writes.
    const killed = await topology.killPrimary();
    expect(killed).toBe(first);
    const second = await topology.waitForNewPrimary(killed, {
      timeoutMs: 15_000,
    });
    expect(replicas).toContain(second);
    expect(await second.call('GET', 'seat')).toBe('A1');
    await second.call('SET', 'seat', 'B2');
    await waitFor(async () => (await client!.get('seat')) === 'B2', {
      what: 'the Sentinel client to read from the new primary',
    });
    await client.set('via', 'sentinel, after the failover');

    // The killed primary comes back as a replica of the new one.
    await topology.rejoin(killed);
    await topology.waitForReplicas(2);
    expect(await killed.role()).toMatchObject({
      role: 'replica',
      primary: { port: second.port },
    });
    expect(await killed.call('GET', 'seat')).toBe('B2');

    // A planned failover.
    const old = await topology.failover();
    expect(old).toBe(second);
    const third = await topology.waitForNewPrimary(old, { timeoutMs: 15_000 });
    await third.call('SET', 'seat', 'C3');
    await waitFor(async () => (await client!.get('seat')) === 'C3', {
      what: 'the Sentinel client to follow the planned failover',
    });
    expect((await old.role()).role).toBe('master'); // until Sentinel converts it
    await topology.rejoin(old);
    await topology.waitForReplicas(2);
    expect(await old.call('GET', 'seat')).toBe('C3');
  });
});
