import type { RedisClient } from './redis-connection.js';

/**
 * Redis WAIT: blocks this connection until `replicas` replicas acknowledged every write
 * this connection made so far (on the current server-side connection: a reconnect starts
 * afresh), or `timeoutMs` passed, and returns how many did. It cannot run inside MULTI or a
 * script. It narrows the window in which an acknowledged write can be lost at failover; it
 * does not make replication synchronous.
 */
export async function waitForReplicas(
  connection: RedisClient,
  replicas: number,
  timeoutMs: number,
): Promise<number> {
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0)
    throw new Error(`WAIT needs a timeout of at least 1 ms, got ${timeoutMs}`); // 0 would block for ever
  return connection.wait(replicas, timeoutMs);
}

/** Why a write is not known to be on enough replicas. */
export type UnreplicatedReason =
  /** WAIT's timeout passed with fewer replicas. */
  | 'too-few-replicas'
  /**
   * A failover began meanwhile: what the old primary (or its replicas) acknowledged may not
   * be on the new primary. Also with 0 replicas asked.
   */
  | 'failover'
  /** The connection reconnected after the write: WAIT would not cover it. */
  | 'reconnected'
  /** WAIT itself failed (the connection dropped, the deadline passed). */
  | 'no-answer';

/** Recorded on the primary, not (yet) known to be on enough replicas. */
export class UnreplicatedError extends Error {
  constructor(
    readonly reason: UnreplicatedReason,
    readonly wanted: number,
    /** Replicas that acknowledged (0 when unknown). */
    readonly acknowledged: number,
    detail?: string,
  ) {
    super(
      wanted === 0
        ? `written on a primary that a failover is replacing: it may not be on the new one (${reason})`
        : `written on the primary, not known to be on ${wanted} replica${wanted === 1 ? '' : 's'} (${reason}${detail ? `: ${detail}` : ''})`,
    );
    this.name = 'UnreplicatedError';
  }
}

/** Nothing written: a failover of the primary is under way (Sentinel began one), so a write now could land on a primary being demoted. */
export class FailoverUnderWayError extends Error {
  constructor() {
    super('a failover of the Redis primary is under way: nothing was written');
    this.name = 'FailoverUnderWayError';
  }
}
