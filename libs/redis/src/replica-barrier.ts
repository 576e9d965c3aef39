import { Cluster, type Redis } from 'ioredis';
import { keySlot, slotTag } from './cluster-slots.js';
import type { FailoverSignal } from './failover-signal.js';
import { connectionEpoch, type RedisClient } from './redis-connection.js';
import {
  UnreplicatedError,
  waitForReplicas,
  type UnreplicatedReason,
} from './wait-for-replicas.js';
import { redactSecrets } from './redis-url.js';
import { REPLICATION_FENCE_KEY } from './redis-keys.js';

/**
 * Confirms that writes a caller made on a connection reached `replicas` replicas:
 *
 *   const written = barrier.watch(connection, [key]); // before writing
 *   await connection.hset(key, ...);
 *   await written.confirmed();                       // throws UnreplicatedError
 *
 * WAIT blocks the whole connection, so concurrent callers share rounds (group commit): at
 * most one fence-and-WAIT is in flight per connection, and callers that come while one is
 * in flight join the next, which covers their writes. A caller waits at most two rounds
 * (2 x timeoutMs), and other commands on the connection at most one.
 * Not confirmed, also when WAIT reached enough replicas: a failover that began after the
 * watch (replicas that acknowledged may not be the one promoted), or a reconnect between
 * the writes' answers and WAIT's. A failover that began after the watch fails the
 * confirmation with 0 replicas asked too: the old primary's writes of that moment are
 * thrown away when it becomes a replica.
 */
export class ReplicaBarrier {
  private readonly rounds = new WeakMap<Redis, Rounds>();

  constructor(
    readonly replicas: number,
    private readonly timeoutMs: number,
    private readonly failover?: FailoverSignal,
  ) {}

  /**
   * Before writing on `connection`. On a cluster, `keys` are keys the writes touch, one per
   * slot they write to (the confirmation waits on each of those slots' primaries).
   */
  watch(
    connection: RedisClient,
    keys: readonly string[] = [],
  ): ReplicatedWrites {
    const nodes =
      connection instanceof Cluster
        ? [...new Set(keys.map(keySlot))].map(
            (slot) => new SlotNode(connection, slot),
          )
        : [new ServerNode(connection)];
    return new ReplicatedWrites(this, nodes, this.failover?.epoch ?? 0);
  }

  /** @internal One shared round of fence and WAIT on one server's connection. */
  round(connection: Redis, fenceKey: string): Promise<number> {
    let rounds = this.rounds.get(connection);
    if (!rounds) {
      rounds = new Rounds(async () => {
        const [, acknowledged] = await Promise.all([
          connection.incr(fenceKey),
          waitForReplicas(connection, this.replicas, this.timeoutMs),
        ]);
        return acknowledged;
      });
      this.rounds.set(connection, rounds);
    }
    return rounds.join();
  }

  /**
   * Whether a failover of the primary is under way: a write now may land on the primary
   * being demoted and be thrown away, whatever the replicas asked.
   */
  get failingOver(): boolean {
    return this.failover?.failingOver ?? false;
  }

  /** @internal */
  failoverSince(epoch: number): boolean {
    return (
      !!this.failover &&
      (this.failover.failingOver || this.failover.epoch !== epoch)
    );
  }
}

/** A server the writes went to: its connection then, and whether it is still the one. */
interface WrittenNode {
  /** The connection to wait on, or why there is none that covers the writes. */
  connection(): Redis | UnreplicatedReason;
  fenceKey: string;
}

/** One server's connection (also behind Sentinel): WAIT covers its writes while it did not reconnect. */
class ServerNode implements WrittenNode {
  readonly fenceKey = REPLICATION_FENCE_KEY;
  private readonly epoch: number;

  constructor(private readonly redis: Redis) {
    this.epoch = epochOfNextWrite(redis, connectionEpoch(redis));
  }

  connection(): Redis | UnreplicatedReason {
    return connectionEpoch(this.redis) === this.epoch
      ? this.redis
      : 'reconnected';
  }
}

/**
 * The primary of one slot of a cluster, as the client routed the writes to it. The
 * confirmation waits on that primary's connection, and fails when the slot has moved to
 * another node meanwhile (a failover: what the old primary's replicas acknowledged may not
 * be on the new one) or that connection reconnected.
 * A client that does not know the slots yet (a connection still being made, as the box
 * office's queue connection is at its first purchase) sends the writes once it does, to
 * the slot's primary then: that one is taken when the confirmation starts.
 */
class SlotNode implements WrittenNode {
  readonly fenceKey: string;
  private owner?: string;
  private node?: Redis;
  private epoch = 0;
  /** Whether the client knew the slots at the watch. */
  private readonly knownAtWatch: boolean;

  constructor(
    private readonly cluster: Cluster,
    private readonly slot: number,
  ) {
    this.fenceKey = `{${slotTag(slot)}}:${REPLICATION_FENCE_KEY}`;
    this.knownAtWatch = cluster.slots.length > 0;
    if (this.knownAtWatch) this.take(true);
  }

  connection(): Redis | UnreplicatedReason {
    if (!this.knownAtWatch && this.owner === undefined) this.take(false);
    if (!this.node || this.cluster.slots[this.slot]?.[0] !== this.owner)
      return 'failover';
    return readyCount(this.node) === this.epoch ? this.node : 'reconnected';
  }

  /** The slot's primary now, and its connection; before the writes, the one they will be answered on. */
  private take(beforeWrites: boolean): void {
    this.owner = this.cluster.slots[this.slot]?.[0];
    this.node = this.owner ? nodeByKey(this.cluster, this.owner) : undefined;
    if (!this.node) return;
    const count = readyCount(this.node);
    this.epoch = beforeWrites ? epochOfNextWrite(this.node, count) : count;
  }
}

/** The writes of one caller, from watch() on. */
export class ReplicatedWrites {
  constructor(
    private readonly barrier: ReplicaBarrier,
    private readonly nodes: readonly WrittenNode[],
    private readonly failoverEpoch: number,
  ) {}

  /**
   * Call once the writes are answered. Resolves once `replicas` replicas of every server
   * written to have every write made since watch(); with 0, at once.
   */
  async confirmed(): Promise<void> {
    const wanted = this.barrier.replicas;
    const fail = (
      reason: UnreplicatedReason,
      acknowledged: number,
      detail?: string,
    ) => new UnreplicatedError(reason, wanted, acknowledged, detail);
    // Also with 0 replicas asked: a primary being demoted takes writes until its clients
    // move, and its resync as a replica throws them away (a planned Sentinel failover).
    if (this.barrier.failoverSince(this.failoverEpoch))
      throw fail('failover', 0);
    if (wanted === 0) return;
    const acknowledged = await Promise.all(
      this.nodes.map(async (node) => {
        // The writes were answered on the server-side connection of now (a write sent before
        // a reconnect is sent again after it); the WAIT must run on that one too.
        const connection = node.connection();
        if (typeof connection === 'string') throw fail(connection, 0);
        let count: number;
        try {
          count = await this.barrier.round(connection, node.fenceKey);
        } catch (err) {
          throw fail('no-answer', 0, redactSecrets((err as Error).message));
        }
        if (node.connection() !== connection) throw fail('reconnected', 0);
        return count;
      }),
    );
    const fewest = Math.min(...acknowledged);
    if (this.barrier.failoverSince(this.failoverEpoch))
      throw fail('failover', fewest);
    if (fewest < wanted) throw fail('too-few-replicas', fewest);
  }
}

/**
 * The connection a write made now is answered on: the current one while it is ready; else
 * the next one (a connection that is not ready sends nothing until it is), so that a
 * connection still being made when the writes are watched does not count as a reconnect.
 */
function epochOfNextWrite(connection: Redis, epoch: number): number {
  return connection.status === 'ready' ? epoch : epoch + 1;
}

/** A cluster node's connection, by its key (host:port), as the client keeps them. */
function nodeByKey(cluster: Cluster, key: string): Redis | undefined {
  return cluster
    .nodes('all')
    .find((n) => `${n.options.host}:${n.options.port}` === key);
}

/** How many times a cluster node's connection became ready since the barrier first saw it. */
const readyCounts = new WeakMap<Redis, number>();
function readyCount(node: Redis): number {
  if (!readyCounts.has(node)) {
    readyCounts.set(node, 0);
    node.on('ready', () =>
      readyCounts.set(node, (readyCounts.get(node) ?? 0) + 1),
    );
  }
  return readyCounts.get(node) ?? 0;
}
/**
 * Rounds of one connection: join() starts one when none is in flight, else returns the
 * next one, started when the one in flight ends (it may have been sent before the caller's
 * writes, so it does not count for them).
 */
class Rounds {
  private current?: Promise<number>;
  private next?: Promise<number>;

  constructor(private readonly run: () => Promise<number>) {}

  join(): Promise<number> {
    if (!this.current) return this.start();
    this.next ??= this.current.then(
      () => this.startNext(),
      () => this.startNext(),
    );
    return this.next;
  }

  private startNext(): Promise<number> {
    this.next = undefined;
    return this.start();
  }

  private start(): Promise<number> {
    const round = this.run();
    this.current = round;
    const clear = () => {
      if (this.current === round) this.current = undefined;
    };
    round.then(clear, clear);
    return round;
  }
}
