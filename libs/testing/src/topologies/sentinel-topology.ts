import { freePorts, type HostPort } from '../ports.js';
import { PrivateRedis } from '../private-redis.js';
import { waitFor } from '../wait-for.js';
import { Sentinel, sentinelId } from './sentinel.js';

export interface SentinelTopologyOptions {
  /** Replicas of the primary (default 2). */
  replicas?: number;
  /** Sentinels watching it (default 3); a majority must agree that it is down. */
  sentinels?: number;
  /** The name the Sentinels monitor it by (default 'podium'). */
  name?: string;
  /** Sentinel's down-after-milliseconds (2000) and failover-timeout (5000); see SentinelOptions. */
  downAfterMs?: number;
  failoverTimeoutMs?: number;
}

/** SENTINEL REPLICAS / SENTINELS answer with flat [field, value, …] arrays. */
function records(reply: unknown): Record<string, string>[] {
  return (reply as string[][]).map((flat) => {
    const record: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) record[flat[i]] = flat[i + 1];
    return record;
  });
}

/** The replicas INFO replication lists as streaming (state=online), by port. */
function onlineReplicaPorts(info: Record<string, string>): number[] {
  return Object.entries(info)
    .filter(
      ([field, value]) =>
        /^slave\d+$/.test(field) && /state=online/.test(value),
    )
    .map(([, value]) => Number(/port=(\d+)/.exec(value)![1]));
}

/** A replica or Sentinel as a Sentinel sees it: up, and nothing wrong flagged. */
const healthy = (flags: string) =>
  !/s_down|o_down|disconnected/.test(flags ?? 'disconnected');

/**
 * A primary, its replicas and the Sentinels that watch them, all on loopback, for tests
 * of failover under Redis Sentinel. The primary is whichever node the Sentinels say it is
 * now: kill it or fail it over and ask again.
 */
export class SentinelTopology {
  private constructor(
    readonly name: string,
    /** Every data node, the first one primary at the start. */
    readonly nodes: PrivateRedis[],
    readonly sentinelNodes: Sentinel[],
  ) {}

  static async start({
    replicas = 2,
    sentinels = 3,
    name = 'podium',
    downAfterMs,
    failoverTimeoutMs,
  }: SentinelTopologyOptions = {}): Promise<SentinelTopology> {
    const nodes: PrivateRedis[] = [];
    const sentinelNodes: Sentinel[] = [];
    const topology = new SentinelTopology(name, nodes, sentinelNodes);
    try {
      const primary = await PrivateRedis.start();
      nodes.push(primary);
      await Promise.all(
        Array.from({ length: replicas }, async () => {
          const replica = await PrivateRedis.start({ replicaOf: primary });
          nodes.push(replica);
          await replica.waitForSync();
        }),
      );
      // Replicas first: a Sentinel learns of them from its first INFO of the primary, at
      // once, instead of at the next one, 10 s later. Each Sentinel is told of the others
      // as if it had heard their hellos already (a start then takes 1.2 s instead of 2.2 s).
      const peers = (await freePorts(sentinels)).map((port) => ({
        port,
        id: sentinelId(),
      }));
      await Promise.all(
        peers.map(async ({ port, id }) => {
          sentinelNodes.push(
            await Sentinel.start({
              name,
              primaryPort: primary.port,
              quorum: Math.floor(sentinels / 2) + 1,
              downAfterMs,
              failoverTimeoutMs,
              port,
              id,
              knownSentinels: peers.filter((peer) => peer.id !== id),
            }),
          );
        }),
      );
      await topology.waitForSentinels(replicas);
      return topology;
    } catch (err) {
      await topology.destroy();
      throw err;
    }
  }

  get sentinels(): HostPort[] {
    return this.sentinelNodes.map(({ host, port }) => ({ host, port }));
  }

  /** The sentinels as REDIS_SENTINELS takes them: 'host:port,host:port'. */
  get sentinelsEnv(): string {
    return this.sentinels.map(({ host, port }) => `${host}:${port}`).join(',');
  }

  /** The node the Sentinels say is primary now (the first one that answers, as a client). */
  async primary(): Promise<PrivateRedis> {
    let lastError: unknown;
    for (const sentinel of this.sentinelNodes.filter((s) => s.running)) {
      try {
        return this.node(await this.primaryPortSeenBy(sentinel));
      } catch (err) {
        lastError = err;
      }
    }
    throw new Error(
      `no Sentinel of ${this.name} answered: ${(lastError as Error)?.message}`,
    );
  }

  /**
   * Makes an old primary a replica of the current primary now: a running one at once, a
   * stopped or killed one as it starts. Sentinel would do it on its own, but only 8 to
   * 20 s later: it waits 8 s after it sees a node it lists as a replica report itself
   * master, and asks a replica's INFO every 10 s. Until then the old primary, if it runs,
   * is a second master that takes the writes of clients still connected to it. As
   * Sentinel does, a running one then closes its clients' connections, so that they ask
   * the Sentinels again.
   */
  async rejoin(node: PrivateRedis): Promise<void> {
    await node.replicate(await this.primary());
    if (node.running) {
      await node.call('CLIENT', 'KILL', 'TYPE', 'normal');
      await node.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    } else {
      await node.start();
    }
  }

  /** Kills the current primary without warning (kill -9) and returns it, to restart. */
  async killPrimary(): Promise<PrivateRedis> {
    const primary = await this.primary();
    await primary.kill();
    return primary;
  }

  /**
   * Asks a Sentinel for a planned failover (SENTINEL FAILOVER) and returns the primary it
   * replaces; `waitForNewPrimary(it)` waits until it is done. The old primary stays a
   * master until Sentinel converts it, or `rejoin(it)`.
   */
  async failover(): Promise<PrivateRedis> {
    const primary = await this.primary();
    const sentinel = this.sentinelNodes.find((s) => s.running);
    if (!sentinel) throw new Error(`no Sentinel of ${this.name} runs`);
    await sentinel.call('SENTINEL', 'FAILOVER', this.name);
    return primary;
  }

  /**
   * Waits until every running Sentinel reports a primary other than `old` and that node
   * answers ROLE as master, and returns it.
   */
  async waitForNewPrimary(
    old: PrivateRedis,
    { timeoutMs = 20_000 } = {},
  ): Promise<PrivateRedis> {
    return waitFor(
      async () => {
        const ports = await Promise.all(
          this.sentinelNodes
            .filter((s) => s.running)
            .map((s) => this.primaryPortSeenBy(s)),
        );
        if (ports.length === 0 || ports.some((port) => port !== ports[0])) {
          return undefined;
        }
        if (ports[0] === old.port) return undefined;
        const primary = this.node(ports[0]);
        return (await primary.role()).role === 'master' ? primary : undefined;
      },
      {
        what: `the Sentinels of ${this.name} to agree on a primary other than port ${old.port}`,
        timeoutMs,
      },
    );
  }

  /**
   * Waits until the current primary has `count` replicas streaming from it and in sync,
   * and every running Sentinel lists them as replicas of it, not down. (What a Sentinel
   * last heard of a replica's own link may be 10 s old; during a failover it asks again
   * every second.)
   */
  async waitForReplicas(
    count: number,
    { timeoutMs = 20_000 } = {},
  ): Promise<void> {
    const replicas = await waitFor(
      async () => {
        const primary = await this.primary();
        const online = onlineReplicaPorts(await primary.info('replication'));
        if (online.length < count) return undefined;
        for (const sentinel of this.sentinelNodes.filter((s) => s.running)) {
          const known = new Set(
            (await this.replicasSeenBy(sentinel)).map(({ port }) => port),
          );
          if (!online.every((port) => known.has(port))) return undefined;
        }
        return online.map((port) => this.node(port));
      },
      {
        what: `${count} replicas of ${this.name}'s primary, known to every Sentinel`,
        timeoutMs,
      },
    );
    await Promise.all(replicas.map((replica) => replica.waitForSync()));
  }

  /** Kills every Sentinel and data node and removes their directories. */
  async destroy(): Promise<void> {
    await Promise.all([
      ...this.sentinelNodes.map((sentinel) => sentinel.destroy()),
      ...this.nodes.map((node) => node.destroy()),
    ]);
  }

  /**
   * Start's last step: every Sentinel knows the primary, its replicas and the other
   * Sentinels, so that the primary killed right after start fails over.
   */
  private async waitForSentinels(replicas: number): Promise<void> {
    const primary = this.nodes[0];
    await waitFor(
      async () => {
        for (const sentinel of this.sentinelNodes) {
          if ((await this.primaryPortSeenBy(sentinel)) !== primary.port) {
            return false;
          }
          const known = await this.replicasSeenBy(sentinel);
          if (known.filter(({ linkUp }) => linkUp).length < replicas) {
            return false;
          }
          const others = records(
            await sentinel.call('SENTINEL', 'SENTINELS', this.name),
          ).filter((s) => healthy(s.flags));
          if (others.length < this.sentinelNodes.length - 1) return false;
        }
        return true;
      },
      {
        what: `the Sentinels of ${this.name} to know its ${replicas} replicas and each other`,
        timeoutMs: 15_000,
      },
    );
  }

  private async primaryPortSeenBy(sentinel: Sentinel): Promise<number> {
    const reply = (await sentinel.call(
      'SENTINEL',
      'GET-MASTER-ADDR-BY-NAME',
      this.name,
    )) as [string, string] | null;
    if (!reply)
      throw new Error(`Sentinel ${sentinel.port} knows no ${this.name}`);
    return Number(reply[1]);
  }

  /** The replicas a Sentinel lists as not down, and whether it last heard their link up. */
  private async replicasSeenBy(
    sentinel: Sentinel,
  ): Promise<{ port: number; linkUp: boolean }[]> {
    return records(await sentinel.call('SENTINEL', 'REPLICAS', this.name))
      .filter((r) => healthy(r.flags))
      .map((r) => ({
        port: Number(r.port),
        linkUp: r['master-link-status'] === 'ok',
      }));
  }

  private node(port: number): PrivateRedis {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`port ${port} is none of ${this.name}'s nodes`);
    return node;
  }
}
