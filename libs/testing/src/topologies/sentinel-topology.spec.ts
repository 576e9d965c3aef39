import { Redis } from 'ioredis';
import { closeClient } from '../redis-call.js';
import { waitFor } from '../wait-for.js';
import { SentinelTopology } from './sentinel-topology.js';

/** The port of the server a client is connected to. */
async function serverPort(client: Redis): Promise<number> {
  return Number(/tcp_port:(\d+)/.exec(await client.info('server'))![1]);
}

describe('SentinelTopology', () => {
  let topology: SentinelTopology | undefined;
  let client: Redis | undefined;
  afterAll(async () => {
    if (client) await closeClient(client);
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

    // A client of the application's kind: it asks the Sentinels where the primary is.
    // (Not with ioredis' failoverDetector: a +switch-master that reaches it while it is
    // reconnecting ends it for good, "Connection is closed.")
    client = new Redis({
      sentinels: topology.sentinels,
      name: topology.name,
      maxRetriesPerRequest: null,
      retryStrategy: () => 50,
      sentinelRetryStrategy: () => 50,
    });
    client.on('error', () => undefined);
    await client.set('via', 'sentinel');
    expect(await serverPort(client)).toBe(first.port);

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
    expect(await serverPort(client)).toBe(second.port);

    // The killed primary comes back as a replica of the new one.
    await topology.rejoin(killed);
    await topology.waitForReplicas(2);
    expect(await killed.role()).toMatchObject({
      role: 'replica',
      primary: { port: second.port },
    });
    expect(await killed.call('GET', 'seat')).toBe('B2');

    // A planned failover. The old primary is still a master, and the client still on it,
    // until the old primary rejoins as a replica (or Sentinel converts it, 8-20 s later).
    const old = await topology.failover();
    expect(old).toBe(second);
    const third = await topology.waitForNewPrimary(old, { timeoutMs: 15_000 });
    await third.call('SET', 'seat', 'C3');
    expect((await old.role()).role).toBe('master');
    expect(await serverPort(client)).toBe(old.port);
    await topology.rejoin(old);
    await waitFor(async () => (await client!.get('seat')) === 'C3', {
      what: 'the Sentinel client to follow the planned failover',
    });
    expect(await serverPort(client)).toBe(third.port);
    await topology.waitForReplicas(2);
    expect(await old.call('GET', 'seat')).toBe('C3');
  });
});
