import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Cluster, type ClusterOptions } from 'ioredis';
import { freePorts, isPortFree, type HostPort } from '../ports.js';
import { PrivateRedis } from '../private-redis.js';
import { closeClient, parseInfo } from '../redis-call.js';
import { waitFor } from '../wait-for.js';

const run = promisify(execFile);

const SLOTS = 16384;
/** A node's cluster bus listens on its port + 10000. */
const BUS_OFFSET = 10000;

export interface ClusterTopologyOptions {
  /** Primaries, among which the 16384 slots are split (default 3). */
  primaries?: number;
  /** Replicas of each primary (default 1). */
  replicasPerPrimary?: number;
  /**
   * Nodes that join as primaries without slots (default 0): they hold no keys, yet the
   * cluster bus brings them every PUBLISH, so what one costs a node shows on them alone.
   * In `spares`, not in `nodes` (nor `nodesEnv`).
   */
  spares?: number;
}

/** One line of CLUSTER NODES. */
export interface ClusterNodeEntry {
  id: string;
  port: number;
  /** e.g. ['myself', 'master'], ['slave'], ['master', 'fail?'] */
  flags: string[];
  /** The id of the primary a replica follows. */
  primaryId?: string;
  connected: boolean;
  /** Slot ranges it serves, inclusive: [[0, 5460]]. */
  slots: [number, number][];
}

export function parseClusterNodes(text: string): ClusterNodeEntry[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, primary, , , , link, ...slots] = line
        .trim()
        .split(' ');
      return {
        id,
        port: Number(/:(\d+)@/.exec(address)?.[1]),
        flags: flags.split(','),
        primaryId: primary === '-' ? undefined : primary,
        connected: link === 'connected',
        slots: slots
          .filter((slot) => !slot.startsWith('[')) // slots being migrated
          .map((slot) => {
            const [from, to = from] = slot.split('-').map(Number);
            return [from, to] as [number, number];
          }),
      };
    });
}

const isFailed = (entry: ClusterNodeEntry) => entry.flags.includes('fail');

/**
 * A Redis Cluster of the test's own on loopback: `primaries` primaries, each with
 * `replicasPerPrimary` replicas, created by `redis-cli --cluster create` (by hand below 3
 * primaries), and `spares` slotless primaries. Roles move on failover; every question (who
 * is primary, who serves a slot) is asked of the cluster.
 */
export class ClusterTopology {
  private readonly clients = new Set<Cluster>();
  private readonly ids = new Map<PrivateRedis, string>();

  /** The slotless primaries (`spares`), measured apart from the nodes that serve slots. */
  readonly spares: PrivateRedis[] = [];

  private constructor(readonly nodes: PrivateRedis[]) {}

  static async start({
    primaries = 3,
    replicasPerPrimary = 1,
    spares = 0,
  }: ClusterTopologyOptions = {}): Promise<ClusterTopology> {
    const count = primaries * (1 + replicasPerPrimary);
    // Each node's bus port (port + 10000) must be a valid port, free, and nobody else's.
    const ports = await freePorts(
      count + spares,
      async (port, chosen) =>
        port + BUS_OFFSET <= 65535 &&
        !chosen.some((other) => Math.abs(other - port) === BUS_OFFSET) &&
        (await isPortFree(port + BUS_OFFSET)),
    );
    const topology = new ClusterTopology([]);
    try {
      await Promise.all(
        ports.map(async (port, i) => {
          (i < count ? topology.nodes : topology.spares).push(
            // PrivateRedis passes --repl-diskless-sync-delay 0, --appendonly no, --save ''.
            await PrivateRedis.start({
              port,
              args: [
                '--cluster-enabled',
                'yes',
                // Relative to the node's --dir: each node has its own, kept across restarts.
                '--cluster-config-file',
                'nodes.conf',
                // A node unreachable for 1 s is failing, so a failover takes 2-3 s.
                '--cluster-node-timeout',
                '1000',
              ],
            }),
          );
        }),
      );
      topology.nodes.sort((a, b) => a.port - b.port);
      for (const node of [...topology.nodes, ...topology.spares]) {
        topology.ids.set(node, (await node.call('CLUSTER', 'MYID')) as string);
      }
      if (primaries >= 3) {
        // redis-cli makes the first `primaries` addresses primaries.
        await run(
          'redis-cli',
          [
            '--cluster',
            'create',
            ...topology.nodes.map(({ port }) => `127.0.0.1:${port}`),
            '--cluster-replicas',
            String(replicasPerPrimary),
            '--cluster-yes',
          ],
          { timeout: 30_000 },
        );
      } else {
        // redis-cli creates no cluster of fewer than 3 primaries: what it does, by hand.
        await topology.createByHand(primaries, replicasPerPrimary);
      }
      if (spares > 0) {
        for (const spare of topology.spares)
          await spare.call('CLUSTER', 'MEET', '127.0.0.1', String(ports[0]));
      }
      await topology.waitForHealthy({ timeoutMs: 15_000 });
      await waitFor(
        async () => {
          for (const node of [...topology.nodes, ...topology.spares]) {
            const info = parseInfo(
              (await node.call('CLUSTER', 'INFO')) as string,
            );
            if (Number(info.cluster_known_nodes) !== count + spares)
              return false;
            // Each node must also list every replica as one of its primary (gossip brings
            // the roles after the nodes): replicasOf() reads one node's view.
            const view = parseClusterNodes(
              (await node.call('CLUSTER', 'NODES')) as string,
            );
            const primaryIds = new Set(
              view.filter((e) => e.flags.includes('master')).map((e) => e.id),
            );
            const linked = view.filter(
              (e) =>
                e.flags.includes('slave') &&
                e.primaryId !== undefined &&
                primaryIds.has(e.primaryId),
            );
            if (linked.length !== primaries * replicasPerPrimary) return false;
            const replication = await node.info('replication');
            if (
              replication.role === 'slave' &&
              replication.master_link_status !== 'up'
            ) {
              return false;
            }
          }
          return true;
        },
        {
          what: 'every cluster node to know the others and every replica to be linked and listed',
          timeoutMs: 15_000,
        },
      );
      return topology;
    } catch (err) {
      await topology.destroy();
      throw err;
    }
  }

  get seeds(): HostPort[] {
    return this.nodes.map(({ host, port }) => ({ host, port }));
  }

  /** The nodes as REDIS_CLUSTER_NODES takes them: 'host:port,host:port'. */
  get nodesEnv(): string {
    return this.seeds.map(({ host, port }) => `${host}:${port}`).join(',');
  }

  /** An ioredis Cluster client for the test's own reads and writes; closed by destroy(). */
  client(options: ClusterOptions = {}): Cluster {
    const client = new Cluster(this.seeds, {
      clusterRetryStrategy: () => 100,
      ...options,
    });
    client.on('error', () => undefined); // expected while a node is killed
    this.clients.add(client);
    return client;
  }

  /** CLUSTER NODES as a running node sees it (the first that answers). */
  async view(): Promise<ClusterNodeEntry[]> {
    let lastError: unknown;
    for (const node of this.nodes.filter((n) => n.running)) {
      try {
        return parseClusterNodes(
          (await node.call('CLUSTER', 'NODES')) as string,
        );
      } catch (err) {
        lastError = err;
      }
    }
    throw new Error(
      `no cluster node answered: ${(lastError as Error)?.message}`,
    );
  }

  /**
   * The primaries that serve slots, the one with the lowest slot first. A killed primary
   * stays one until a replica takes its slots over.
   */
  async primaries(): Promise<PrivateRedis[]> {
    return (await this.view())
      .filter(
        (entry) => entry.flags.includes('master') && entry.slots.length > 0,
      )
      .sort((a, b) => a.slots[0][0] - b.slots[0][0])
      .map((entry) => this.node(entry.port));
  }

  /** The replicas that follow `primary` and the cluster does not mark as failed. */
  async replicasOf(primary: PrivateRedis): Promise<PrivateRedis[]> {
    const id = this.idOf(primary);
    return (await this.view())
      .filter(
        (entry) =>
          entry.flags.includes('slave') &&
          entry.primaryId === id &&
          !isFailed(entry),
      )
      .map((entry) => this.node(entry.port));
  }

  async primaryOfSlot(slot: number): Promise<PrivateRedis> {
    const entry = (await this.view()).find(
      (e) =>
        e.flags.includes('master') &&
        e.slots.some(([from, to]) => from <= slot && slot <= to),
    );
    if (!entry) throw new Error(`no primary serves slot ${slot}`);
    return this.node(entry.port);
  }

  async slotOf(key: string): Promise<number> {
    const node = this.nodes.find((n) => n.running);
    if (!node) throw new Error('no cluster node runs');
    return Number(await node.call('CLUSTER', 'KEYSLOT', key));
  }

  async primaryOfKey(key: string): Promise<PrivateRedis> {
    return this.primaryOfSlot(await this.slotOf(key));
  }

  /**
   * Kills a primary without warning (kill -9): the index-th of primaries(), or that node.
   * Returns it, to restart: it comes back as a replica of whoever took its slots.
   */
  async killPrimary(which: number | PrivateRedis = 0): Promise<PrivateRedis> {
    const node =
      typeof which === 'number' ? (await this.primaries())[which] : which;
    if (!node)
      throw new Error(`there is no primary at index ${which as number}`);
    await node.kill();
    return node;
  }

  /**
   * A planned failover: CLUSTER FAILOVER on `replica`, which takes its primary's slots
   * once it has caught up. Waits until it is primary, the old primary (if it runs) its
   * replica, and the cluster healthy; returns the old primary.
   */
  async failover(
    replica: PrivateRedis,
    { timeoutMs = 10_000 } = {},
  ): Promise<PrivateRedis> {
    const info = await replica.info('replication');
    if (info.role !== 'slave') {
      throw new Error(`port ${replica.port} is no replica`);
    }
    const old = this.node(Number(info.master_port));
    await replica.call('CLUSTER', 'FAILOVER');
    await waitFor(
      async () => {
        if ((await replica.role()).role !== 'master') return false;
        if (!old.running) return true;
        const role = await old.role();
        return role.role === 'replica' && role.primary.port === replica.port;
      },
      {
        what: `replica on port ${replica.port} to take over from port ${old.port}`,
        timeoutMs,
      },
    );
    await this.waitForHealthy({ timeoutMs });
    return old;
  }

  /**
   * Waits until every running node says cluster_state:ok and sees every slot served by a
   * primary that runs and answers, the same one for each slot as the other nodes see it.
   */
  async waitForHealthy({ timeoutMs = 15_000 } = {}): Promise<void> {
    let problem = '';
    await waitFor(
      async () => {
        problem = await this.unhealthy();
        return problem === '';
      },
      { what: 'the cluster to be healthy', timeoutMs },
    ).catch((err: Error) => {
      throw new Error(`${err.message} (${problem})`);
    });
  }

  /** Closes the test's clients, kills every node and removes their directories. */
  async destroy(): Promise<void> {
    await Promise.all([...this.clients].map(closeClient));
    this.clients.clear();
    await Promise.all(
      [...this.nodes, ...this.spares].map((node) => node.destroy()),
    );
  }

  /**
   * The first `primaries` nodes share the slots evenly, each with its own config epoch;
   * the others meet them and follow one each, in turn.
   */
  private async createByHand(
    primaries: number,
    replicasPerPrimary: number,
  ): Promise<void> {
    const heads = this.nodes.slice(0, primaries);
    for (const [i, node] of heads.entries()) {
      const from = Math.floor((i * SLOTS) / primaries);
      const to = Math.floor(((i + 1) * SLOTS) / primaries) - 1;
      await node.call('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1));
      await node.call('CLUSTER', 'ADDSLOTSRANGE', String(from), String(to));
    }
    for (const node of this.nodes.slice(1))
      await node.call('CLUSTER', 'MEET', '127.0.0.1', String(heads[0].port));
    const followers = this.nodes.slice(primaries);
    await waitFor(
      async () => {
        for (const node of followers) {
          const known = parseClusterNodes(
            (await node.call('CLUSTER', 'NODES')) as string,
          ).map((e) => e.id);
          if (!heads.every((h) => known.includes(this.idOf(h)))) return false;
        }
        return true;
      },
      { what: 'the replicas to know the primaries', timeoutMs: 15_000 },
    );
    for (const [i, node] of followers.entries())
      await node.call(
        'CLUSTER',
        'REPLICATE',
        this.idOf(heads[Math.floor(i / replicasPerPrimary)]),
      );
  }

  /** What is wrong with the cluster now, or '' if nothing. */
  private async unhealthy(): Promise<string> {
    let owners: string | undefined;
    for (const node of this.nodes.filter((n) => n.running)) {
      const info = parseInfo((await node.call('CLUSTER', 'INFO')) as string);
      if (info.cluster_state !== 'ok') {
        return `port ${node.port} says cluster_state:${info.cluster_state}`;
      }
      const view = parseClusterNodes(
        (await node.call('CLUSTER', 'NODES')) as string,
      );
      const ranges = view
        .filter((e) => e.flags.includes('master'))
        .flatMap((e) => e.slots.map(([from, to]) => ({ from, to, entry: e })))
        .sort((a, b) => a.from - b.from);
      let next = 0;
      for (const { from, to, entry } of ranges) {
        if (from !== next)
          return `port ${node.port} sees slot ${next} unserved`;
        const owner = this.nodes.find((n) => n.port === entry.port);
        if (!owner?.running || isFailed(entry)) {
          return `port ${node.port} sees slot ${from} on port ${entry.port}, which is down`;
        }
        next = to + 1;
      }
      if (next !== SLOTS) return `port ${node.port} sees slot ${next} unserved`;
      const seen = ranges
        .map(({ from, to, entry }) => `${from}-${to}@${entry.port}`)
        .join(' ');
      if (owners !== undefined && seen !== owners) {
        return `nodes disagree on who serves which slots: ${owners} / ${seen}`;
      }
      owners = seen;
    }
    if (owners === undefined) return 'no node runs';
    // Each primary answers (a SIGSTOPped one would not).
    for (const port of new Set(
      owners.split(' ').map((range) => Number(range.split('@')[1])),
    )) {
      await this.node(port).call('PING');
    }
    return '';
  }

  private node(port: number): PrivateRedis {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`port ${port} is none of the cluster's nodes`);
    return node;
  }

  private idOf(node: PrivateRedis): string {
    const id = this.ids.get(node);
    if (!id)
      throw new Error(`port ${node.port} is none of the cluster's nodes`);
    return id;
  }
}
