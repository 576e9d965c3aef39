import { Logger } from '@nestjs/common';
import {
  Cluster,
  Redis,
  type ClusterOptions,
  type RedisOptions,
} from 'ioredis';
import {
  ClusterNodeConnector,
  type ClusterNodeConnectorOptions,
} from './cluster-node-connector.js';
import {
  followPipelineRedirects,
  refreshSlotsEvery,
} from './cluster-redirects.js';
import { livenessOf } from './connection-liveness.js';
import { redactSecrets } from './redis-url.js';
import type {
  ClusterTarget,
  RedisTarget,
  SentinelTarget,
  StandaloneTarget,
} from './redis-target.js';

/**
 * A connection podium sends commands on: to one server (also behind Sentinel) or to a Redis
 * Cluster, which routes each command to the node of its key's slot.
 */
export type RedisClient = Redis | Cluster;

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

/** How a connection behaves, whatever its target (see createRedis). */
function behaviour(
  target: RedisTarget,
  connectionName: string,
  {
    autoPipelining = true,
    failFast = false,
    lazyConnect = false,
  }: CreateRedisOptions,
): RedisOptions {
  const liveness = livenessOf(target);
  return {
    connectionName,
    lazyConnect,
    // The heartbeat (ConnectionLiveness) bounds how long a silent connection is trusted;
    // keepalive probes from the kernel after seconds, not its default two hours, help it
    // notice a peer that is gone for good. A connection not made within the bound is retried.
    keepAlive: liveness.keepAliveMs,
    connectTimeout: liveness.timeoutMs,
    enableAutoPipelining: autoPipelining,
    // BullMQ workers need commands to wait for a reconnect rather than fail after 20 tries.
    maxRetriesPerRequest: autoPipelining ? 20 : null,
    ...(failFast && {
      enableOfflineQueue: false,
      commandTimeout: FAIL_FAST_COMMAND_TIMEOUT_MS,
      maxRetriesPerRequest: 0,
    }),
    retryStrategy,
    reconnectOnError: (err) =>
      /^(READONLY|UNBLOCKED) /.test(err.message)
        ? failFast || autoPipelining
          ? 1
          : 2
        : false,
  };
}

/** Keep retrying while Redis (or every Sentinel) is away, at most 2 s (1 s) apart. */
const retryStrategy = (times: number) => Math.min(times * 100, 2000);
const sentinelRetryStrategy = (times: number) => Math.min(times * 100, 1000);

/**
 * Every connection podium opens to a data node, in both apps, is made here from the one
 * target (REDIS_URL, Sentinel, or a cluster), so they all follow a failover the same way.
 * It keeps reconnecting while Redis is away; behind Sentinel it asks the Sentinels for the
 * primary on each connect and drops the connection as soon as one announces +switch-master;
 * on a cluster it follows the slots (MOVED, ASK) to the node that serves them now.
 *
 * READONLY: the connection reaches a replica, typically a demoted primary that an
 * endpoint's name moved away from, and would get READONLY for every write from now on:
 * reconnect, through the endpoint (or the Sentinels), to the current primary.
 * UNBLOCKED: Redis ended a blocking read (BullMQ's) because the server became a replica.
 * - fail-fast (a request's connection): reconnect only (1). The command fails now and the
 *   request answers 503 at once; resending it (2) would run a purchase's write after the
 *   reconnect, possibly long after its client gave up.
 * - auto-pipelined (the listeners' command connection): reconnect only. ioredis would
 *   resend a refused command of a MULTI alone, outside its transaction. Its callers retry:
 *   effects with the delivery's retries, the relay on its next pass.
 * - BullMQ's (autoPipelining false): reconnect and resend (2). BullMQ writes with one script
 *   per step (an add, a worker's moves), a refused script did not run, so it runs once on
 *   the primary and its caller waits as for any reconnect instead of failing (a worker's
 *   failed fetch would pause it for runRetryDelay, 15 s).
 * Subscribers (createSubscriber) get neither: on a demoted primary they still hear every
 * PUBLISH, which replication carries from the new primary, and they move when it goes away.
 */
export function createRedis(
  target: RedisTarget,
  connectionName: string,
  options: CreateRedisOptions = {},
): RedisClient {
  if (target.kind === 'cluster')
    return createCluster(target, connectionName, options);
  const redis = new Redis({
    ...connectionOptions(target),
    ...behaviour(target, connectionName, options),
  });
  watchErrors(redis, connectionName);
  forEveryCopy(redis, (copy) => {
    trackReconnects(copy);
    livenessOf(target).watch(
      copy,
      copy.options.connectionName ?? connectionName,
    );
    if (target.kind === 'sentinel') dropStaleFailoverDetector(copy);
  });
  return redis;
}

/**
 * A plain connection for subscribing (Nest's transport, the live dashboard): to the one
 * server, to the primary behind Sentinel, or on a cluster to one node, the next one when it
 * goes away (ClusterNodeConnector: classic PUBLISH reaches the subscribers of every node).
 */
export function createSubscriber(
  target: RedisTarget,
  connectionName: string,
  options: Omit<CreateRedisOptions, 'failFast'> = {},
): Redis {
  if (target.kind !== 'cluster')
    return createRedis(target, connectionName, options) as Redis;
  const { tls, ...login } = target.login;
  const connectorOptions: ClusterNodeConnectorOptions = {
    Connector: ClusterNodeConnector,
    clusterNodes: target.nodes,
    ...login,
    ...(tls && { tls: {} }),
    ...behaviour(target, connectionName, options),
  };
  const redis = new Redis(connectorOptions);
  watchErrors(redis, connectionName);
  trackReconnects(redis);
  livenessOf(target).watch(redis, connectionName);
  return redis;
}

/** A cluster client: commands go to their slot's primary, auto-pipelined per node. */
function createCluster(
  target: ClusterTarget,
  connectionName: string,
  options: CreateRedisOptions,
): Cluster {
  const { tls, ...login } = target.login;
  const {
    enableAutoPipelining,
    enableOfflineQueue,
    maxRetriesPerRequest,
    ...perNode
  } = behaviour(target, connectionName, options);
  const clusterOptions: ClusterOptions = {
    enableAutoPipelining,
    enableOfflineQueue,
    lazyConnect: options.lazyConnect ?? false,
    clusterRetryStrategy: retryStrategy,
    // A failover moves slots: ask the nodes again at once, and retry a redirected command.
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    maxRedirections: 16,
    redisOptions: {
      ...perNode,
      ...login,
      maxRetriesPerRequest,
      ...(tls && { tls: {} }),
    },
  };
  const cluster = new Cluster(target.nodes, clusterOptions);
  watchErrors(cluster, connectionName);
  // BullMQ's connections (no auto-pipelining) pipeline one queue's commands, one slot:
  // ioredis re-sends those pipelines whole, in order, on MOVED.
  if (enableAutoPipelining) followPipelineRedirects(cluster);
  refreshSlotsEvery(cluster);
  // Each node's connection is watched; a silent one is dropped, and the cluster connects
  // to the node again when it next needs it.
  const liveness = livenessOf(target);
  cluster.on('+node', (node: Redis) => liveness.watch(node, connectionName));
  return cluster;
}

function watchErrors(client: RedisClient, connectionName: string): void {
  const logger = new Logger(connectionName);
  // Without an error listener ioredis prints every failed reconnect attempt as unhandled.
  client.on('error', (err: Error) =>
    logger.warn(`Redis: ${redactSecrets(err.message)}`),
  );
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
 * new one on the next connect.
 */
function dropStaleFailoverDetector(redis: Redis): void {
  redis.on('close', () => {
    const connector = (redis as unknown as WithConnector).connector;
    connector?.failoverDetector?.cleanup();
    if (connector) connector.failoverDetector = null;
  });
}

/**
 * Runs `setUp` on a connection and on every copy made of it (BullMQ duplicates a worker's
 * connection for its blocking reads), so copies are watched and fixed as the original is.
 */
function forEveryCopy(redis: Redis, setUp: (copy: Redis) => void): void {
  setUp(redis);
  const duplicate = redis.duplicate.bind(redis);
  redis.duplicate = (override) => {
    const copy = duplicate(override);
    forEveryCopy(copy, setUp);
    return copy;
  };
}

/** ioredis options for the data nodes of a target (no connection behaviour: see createRedis). */
export function connectionOptions(
  target: StandaloneTarget | SentinelTarget,
): RedisOptions {
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
      keepAlive: livenessOf(target).keepAliveMs,
    });
    livenessOf(target).watch(client, connectionName);
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
