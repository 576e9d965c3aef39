import { Cluster, Command } from 'ioredis';
import { keySlot } from './cluster-slots.js';
import { ClusterTopology, waitFor, type PrivateRedis } from '@podium/testing';
import {
  followPipelineRedirects,
  refreshSlotsEvery,
} from './cluster-redirects.js';
import { LuaScript } from './lua-script.js';

const echo = new LuaScript(
  "redis.call('INCR', KEYS[1]); return redis.call('GET', KEYS[1])",
);

describe('a Cluster client across a planned failover', () => {
  let cluster: ClusterTopology;
  const clients: Cluster[] = [];

  beforeAll(async () => {
    cluster = await ClusterTopology.start({
      primaries: 3,
      replicasPerPrimary: 1,
    });
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await cluster?.destroy();
  });

  /** An auto-pipelining client (no periodic refresh: it learns a move by MOVED only). */
  async function connect(): Promise<Cluster> {
    const client = new Cluster(cluster.seeds, { enableAutoPipelining: true });
    client.on('error', () => undefined);
    clients.push(client);
    await waitFor(() => client.status === 'ready', { what: 'ready' });
    return client;
  }

  /**
   * Keys of 20 different slots that one primary serves (the index-th), and that primary.
   * Each test moves another one's slots: the primaries refuse to vote for a failover of
   * the same slots again within twice the node timeout.
   */
  async function keysOfOnePrimary(index: number): Promise<{
    keys: string[];
    primary: PrivateRedis;
  }> {
    const primary = (await cluster.primaries())[index];
    const keys: string[] = [];
    for (let i = 0; keys.length < 20; i++) {
      const key = `key-${i}`;
      if ((await cluster.primaryOfSlot(keySlot(key))) === primary)
        keys.push(key);
    }
    expect(new Set(keys.map(keySlot)).size).toBe(keys.length);
    return { keys, primary };
  }

  /** One tick of plain commands and scripts on every key: one auto-pipeline to their node. */
  const batch = (client: Cluster, keys: string[]) =>
    Promise.allSettled(
      keys.flatMap((key) => [
        client.set(key, '0'),
        echo.run<string>(client, [key], []),
        client.get(key),
      ]),
    );

  it('followPipelineRedirects: each auto-pipelined command refused with MOVED runs once, on the new primary', async () => {
    const { keys, primary } = await keysOfOnePrimary(0);
    const plain = await connect();
    const fixed = await connect();
    followPipelineRedirects(fixed);
    // Both learn the slots and load the script before the move.
    expect(
      (await batch(plain, keys)).every((r) => r.status === 'fulfilled'),
    ).toBe(true);
    expect(
      (await batch(fixed, keys)).every((r) => r.status === 'fulfilled'),
    ).toBe(true);
    const [replica] = await cluster.replicasOf(primary);
    await cluster.failover(replica);

    // ioredis alone (issue #2075): the node answers each slot's own MOVED, the pipeline is
    // not re-sent, and the commands fail. If this starts passing, ioredis fixed it.
    const refused = (await batch(plain, keys)).filter(
      (r) => r.status === 'rejected',
    );
    expect(refused.length).toBeGreaterThan(0);
    expect(String(refused[0].reason)).toMatch(/MOVED \d+ /);

    const results = await batch(fixed, keys);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    // Each command ran once: SET 0, then the script's INCR (the GET may come before it:
    // the new primary has no scripts loaded, and the script is sent again as EVAL).
    const values = results.map(
      (r) => (r as PromiseFulfilledResult<unknown>).value,
    );
    expect(values.filter((_, i) => i % 3 !== 2)).toEqual(
      keys.flatMap(() => ['OK', '1']),
    );
    const direct = cluster.client();
    expect(await Promise.all(keys.map((k) => direct.get(k)))).toEqual(
      keys.map(() => '1'),
    );
  });

  it('refreshSlotsEvery: the client learns a slot moved without any command of it', async () => {
    const { keys, primary } = await keysOfOnePrimary(1);
    const client = await connect();
    refreshSlotsEvery(client, 200);
    const [replica] = await cluster.replicasOf(primary);
    await cluster.failover(replica);
    const slot = keySlot(keys[0]);
    await waitFor(
      () => client.slots[slot]?.[0] === `127.0.0.1:${replica.port}`,
      { what: 'the client to see the new primary', timeoutMs: 3000 },
    );
  });

  it('followPipelineRedirects: a pipeline queued as one slot moves alone (MOVED) is sent command by command', async () => {
    const { keys, primary } = await keysOfOnePrimary(2);
    const [kA, kB] = keys;
    const plain = await connect();
    const fixed = await connect();
    followPipelineRedirects(fixed);
    for (const client of [plain, fixed])
      await Promise.all([client.set(kA, '0'), client.set(kB, '0')]);
    const [replica] = await cluster.replicasOf(primary);
    await cluster.failover(replica);

    /**
     * A command of kA's slot sent alone reaches the old primary and comes back MOVED. As
     * its answer arrives, before ioredis reads it, kA and kB are queued: one auto-pipeline
     * to the old primary. Reading the MOVED, ioredis moves kA's slot (alone) to the new
     * one; the pipeline then spans two nodes when it runs.
     */
    const queuedAsOneSlotMoves = async (client: Cluster) => {
      const old = client
        .nodes('all')
        .find((node) => node.options.port === primary.port)!;
      let queued: Promise<unknown>[] = [];
      old.stream.prependOnceListener('data', () => {
        queued = [client.incr(kA), client.incr(kB)];
      });
      await client.sendCommand(new Command('get', [kA]));
      return Promise.allSettled(queued);
    };

    // ioredis alone rejects all of it, unsent. If this starts passing, ioredis fixed it.
    const refused = await queuedAsOneSlotMoves(plain);
    expect(refused.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(String((refused[0] as PromiseRejectedResult).reason)).toMatch(
      /All keys in the pipeline should belong to the same slots allocation group/,
    );

    const sent = await queuedAsOneSlotMoves(fixed);
    expect(sent).toEqual([
      { status: 'fulfilled', value: 1 },
      { status: 'fulfilled', value: 1 },
    ]);
  });
});
