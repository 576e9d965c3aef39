import type { Redis } from 'ioredis';
import type { FailoverSignal } from './failover-signal.js';
import { connectionEpoch } from './redis-connection.js';
import {
  UnreplicatedError,
  waitForReplicas,
  type UnreplicatedReason,
} from './wait-for-replicas.js';
import { redactSecrets } from './redis-url.js';

/**
 * A write made just before WAIT: it moves the connection's replication offset to the
 * server's current one, so WAIT then covers everything the server holds, also what this
 * connection only read (a replayed order recorded by an earlier request).
 */
export const REPLICATION_FENCE_KEY = 'podium:replication:fence';

/**
 * Confirms that writes a caller made on a connection reached `replicas` replicas:
 *
 *   const written = barrier.watch(connection); // before writing
 *   await connection.hset(...);
 *   await written.confirmed();                 // throws UnreplicatedError
 *
 * WAIT blocks the whole connection, so concurrent callers share rounds (group commit): at
 * most one fence-and-WAIT is in flight per connection, and callers that come while one is
 * in flight join the next, which covers their writes. A caller waits at most two rounds
 * (2 x timeoutMs), and other commands on the connection at most one.
 * Not confirmed, also when WAIT reached enough replicas: a failover that began after the
 * watch (replicas that acknowledged may not be the one promoted), or a reconnect between
 * the writes' answers and WAIT's.
 */
export class ReplicaBarrier {
  private readonly rounds = new WeakMap<Redis, Rounds>();

  constructor(
    readonly replicas: number,
    private readonly timeoutMs: number,
    private readonly failover?: FailoverSignal,
  ) {}

  watch(connection: Redis): ReplicatedWrites {
    return new ReplicatedWrites(this, connection, this.failover?.epoch ?? 0);
  }

  /** @internal One shared round of fence and WAIT on `connection`. */
  round(connection: Redis): Promise<number> {
    let rounds = this.rounds.get(connection);
    if (!rounds) {
      rounds = new Rounds(async () => {
        const [, acknowledged] = await Promise.all([
          connection.incr(REPLICATION_FENCE_KEY),
          waitForReplicas(connection, this.replicas, this.timeoutMs),
        ]);
        return acknowledged;
      });
      this.rounds.set(connection, rounds);
    }
    return rounds.join();
  }

  /** @internal */
  failoverSince(epoch: number): boolean {
    return (
      !!this.failover &&
      (this.failover.failingOver || this.failover.epoch !== epoch)
    );
  }
}

/** The writes of one caller on one connection, from watch() on. */
export class ReplicatedWrites {
  constructor(
    private readonly barrier: ReplicaBarrier,
    private readonly connection: Redis,
    private readonly failoverEpoch: number,
  ) {}

  /**
   * Call once the writes are answered. Resolves once `replicas` replicas have every write
   * made since watch(); with 0, at once.
   */
  async confirmed(): Promise<void> {
    const wanted = this.barrier.replicas;
    if (wanted === 0) return;
    const fail = (
      reason: UnreplicatedReason,
      acknowledged: number,
      detail?: string,
    ) => new UnreplicatedError(reason, wanted, acknowledged, detail);
    if (this.barrier.failoverSince(this.failoverEpoch))
      throw fail('failover', 0);
    // The writes were answered on the server-side connection of now (a write sent before a
    // reconnect is sent again after it); the WAIT must run on that one too.
    const epoch = connectionEpoch(this.connection);
    let acknowledged: number;
    try {
      acknowledged = await this.barrier.round(this.connection);
    } catch (err) {
      throw fail('no-answer', 0, redactSecrets((err as Error).message));
    }
    if (connectionEpoch(this.connection) !== epoch)
      throw fail('reconnected', 0);
    if (this.barrier.failoverSince(this.failoverEpoch))
      throw fail('failover', acknowledged);
    if (acknowledged < wanted) throw fail('too-few-replicas', acknowledged);
  }
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
