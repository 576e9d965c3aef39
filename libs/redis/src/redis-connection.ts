import { Logger } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { redactSecrets } from './redis-url.js';
import type { RedisTarget, SentinelTarget } from './redis-target.js';

/** How long a fail-fast connection's command may take, and how long start-up waits for Redis. */
export const FAIL_FAST_COMMAND_TIMEOUT_MS = 2000;

export interface CreateRedisOptions {
  /** false for connections handed to BullMQ, which defines its own commands on them. */
  autoPipelining?: boolean;
  /**
   * For a request path: commands fail at once while the connection is down instead of
   * waiting in ioredis' offline queue (which would run them when Redis returns, long after
   * the client gave up), and fail after FAIL_FAST_COMMAND_TIMEOUT_MS when Redis does not answer.
   */
  failFast?: boolean;
  /** Connect on connect() or the first command (Nest's transport calls connect() itself). */
  lazyConnect?: boolean;
}

/** Keep retrying while Redis (or every Sentinel) is away, at most 2 s (1 s) apart. */
const retryStrategy = (times: number) => Math.min(times * 100, 2000);
const sentinelRetryStrategy = (times: number) => Math.min(times * 100, 1000);

/**
 * Every connection podium opens to a data node, in both apps, is made here from the one
 * target (REDIS_URL, or Sentinel), so they all follow a failover the same way. It keeps
 * reconnecting while Redis is away; behind Sentinel it asks the Sentinels for the primary
 * on each connect and drops the connection as soon as one announces +switch-master.
 */
export function createRedis(
  target: RedisTarget,
  connectionName: string,
  {
    autoPipelining = true,
    failFast = false,
    lazyConnect = false,
  }: CreateRedisOptions = {},
): Redis {
  const redis = new Redis({
    ...connectionOptions(target),
    connectionName,
    lazyConnect,
    enableAutoPipelining: autoPipelining,
    // BullMQ workers need commands to wait for a reconnect rather than fail after 20 tries.
    maxRetriesPerRequest: autoPipelining ? 20 : null,
    ...(failFast && {
      enableOfflineQueue: false,
      commandTimeout: FAIL_FAST_COMMAND_TIMEOUT_MS,
      maxRetriesPerRequest: 0,
    }),
    retryStrategy,
    /*
     * READONLY: this connection reaches a replica, typically a demoted primary that an
     * endpoint's name moved away from, and would get READONLY for every write from now on:
     * reconnect, through the endpoint (or the Sentinels), to the current primary.
     * UNBLOCKED: Redis ended a blocking read (BullMQ's) because the server became a replica.
     * - fail-fast (a request's connection): reconnect only (1). The command fails now and
     *   the request answers 503 at once; resending it (2) would run a purchase's write
     *   after the reconnect, possibly long after its client gave up.
     * - auto-pipelined (the listeners' command connection): reconnect only. It runs
     *   MULTIs (the outbox relay's announcement), and ioredis would resend a refused
     *   command of a MULTI alone, outside its transaction. Its callers retry: effects with
     *   the delivery's retries, the relay on its next pass.
     * - BullMQ's (autoPipelining false): reconnect and resend (2). BullMQ writes with one
     *   script per step (an add, a worker's moves), a refused script did not run, so it
     *   runs once on the primary and its caller waits as for any reconnect instead of
     *   failing (a worker's failed fetch would pause it for runRetryDelay, 15 s).
     * Subscribers get neither: on a demoted primary they still hear every PUBLISH, which
     * replication carries from the new primary, and they move when it goes away.
     */
    reconnectOnError: (err) =>
      /^(READONLY|UNBLOCKED) /.test(err.message)
        ? failFast || autoPipelining
          ? 1
          : 2
        : false,
  });
  const logger = new Logger(connectionName);
  // Without an error listener ioredis prints every failed reconnect attempt as unhandled.
  redis.on('error', (err: Error) =>
    logger.warn(`Redis: ${redactSecrets(err.message)}`),
  );
  trackReconnects(redis);
  if (target.kind === 'sentinel') dropStaleFailoverDetectors(redis);
  return redis;
}

/** What dropStaleFailoverDetectors reaches into: ioredis' private SentinelConnector. */
interface WithConnector {
  connector?: { failoverDetector?: { cleanup(): void } | null };
}

/*
 * ioredis 5.11 cleans a connection's failover detector only when it disconnects itself; after
 * a connection drops (its primary killed) the old detector stays subscribed, and its
 * +switch-master calls disconnect() while the connection is reconnecting: the reconnect
 * then fails with "Connection is closed." and ioredis ends the connection for good (status
 * end, no more retries). Measured: 12, 22 and 40 of 60 connections ended so in three kill
 * -9 failovers, none in two with this; the box office's command connection once in about
 * ten runs of the failover test.
 * Dropping the detector when the connection closes leaves none to do that; ioredis makes a
 * new one on the next connect. Copies (BullMQ duplicates a worker's connection for its
 * blocking reads) get the same.
 */
function dropStaleFailoverDetectors(redis: Redis): void {
  redis.on('close', () => {
    const connector = (redis as unknown as WithConnector).connector;
    connector?.failoverDetector?.cleanup();
    if (connector) connector.failoverDetector = null;
  });
  const duplicate = redis.duplicate.bind(redis);
  redis.duplicate = (override) => {
    const copy = duplicate(override);
    dropStaleFailoverDetectors(copy);
    return copy;
  };
}

/** ioredis options for the data nodes of a target (no connection behaviour: see createRedis). */
export function connectionOptions(target: RedisTarget): RedisOptions {
  const { tls, ...login } = target.login;
  switch (target.kind) {
    case 'standalone':
      return { ...target.node, ...login, ...(tls && { tls: {} }) };
    case 'sentinel':
      return {
        sentinels: target.sentinels,
        name: target.name,
        role: 'master',
        ...login,
        // Measured: with the default (false) clients stayed ~10 s on a demoted primary
        // after a planned failover, and most writes of that window were lost at resync;
        // with true (it subscribes to +switch-master) they moved in 40-50 ms.
        failoverDetector: true,
        sentinelRetryStrategy,
        // The failover detector's own Sentinel connections (the default waits a minute).
        sentinelReconnectStrategy: () => 1000,
        ...(target.sentinelPassword !== undefined && {
          sentinelPassword: target.sentinelPassword,
        }),
        // rediss://: TLS to the data nodes and to the Sentinels.
        ...(tls && {
          tls: {},
          enableTLSForSentinelMode: true,
          sentinelTLS: {},
        }),
      };
  }
}

/**
 * Connections to each Sentinel of a target, for watching its events (FailoverMonitor);
 * none for a target without Sentinels. They keep reconnecting, at most 1 s apart.
 */
export function createSentinelClients(
  target: SentinelTarget,
  connectionName: string,
): Redis[] {
  const logger = new Logger(connectionName);
  return target.sentinels.map((sentinel) => {
    const client = new Redis({
      ...sentinel,
      ...(target.sentinelPassword !== undefined && {
        password: target.sentinelPassword,
      }),
      ...(target.login.tls && { tls: {} }),
      connectionName,
      maxRetriesPerRequest: null,
      retryStrategy: sentinelRetryStrategy,
    });
    client.on('error', (err: Error) =>
      logger.warn(
        `Sentinel ${sentinel.host}:${sentinel.port}: ${redactSecrets(err.message)}`,
      ),
    );
    return client;
  });
}

const readyCounts = new WeakMap<Redis, number>();

function trackReconnects(redis: Redis): void {
  redis.on('ready', () => readyCounts.set(redis, connectionEpoch(redis) + 1));
}

/**
 * How many times a connection made by createRedis became ready. A server-side connection
 * is a new one after each reconnect (WAIT covers only the writes of the current one), so a
 * caller compares this before and after.
 */
export function connectionEpoch(redis: Redis): number {
  return readyCounts.get(redis) ?? 0;
}
