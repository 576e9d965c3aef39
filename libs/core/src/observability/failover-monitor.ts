import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  Optional,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Cluster } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import { PODIUM_SETTINGS, type PodiumSettings } from '../config/index.js';
import {
  createSentinelClients,
  describeRedisTarget,
  REDIS,
  type FailoverSignal,
  type SentinelTarget,
  type RedisClient,
} from '@podium/redis';
import { READINESS_TIMEOUT_MS, ReadinessChecks } from './health.js';
import { METRICS_REGISTRY } from './metrics.js';

/**
 * Sentinel events a monitor listens to: a failover begins or goes on (whichever of them is
 * heard first starts it: a Sentinel connection may miss one), ends, or is given up.
 */
const UNDER_WAY = [
  '+try-failover',
  '+elected-leader',
  '+failover-state-select-slave',
  '+selected-slave',
  '+failover-state-send-slaveof-noone',
  '+failover-state-wait-promotion',
  '+promoted-slave',
  '+failover-state-reconf-slaves',
];
const SWITCHED = '+switch-master';
const GIVEN_UP = [
  '-failover-abort-not-elected',
  '-failover-abort-no-good-slave',
  '-failover-abort-slave-timeout',
  '+failover-end-for-timeout',
];
/** A failover no Sentinel reports the end of stops counting as under way after this. */
export const FAILOVER_MAX_MS = 30_000;
/** After +switch-master, how long the failover waits for the command connection to come back. */
const SWITCH_RECONNECT_MAX_MS = 5000;
/** How long a cluster's slot move is remembered, so that a stale view's flip-flop is not counted again. */
const CLUSTER_MOVE_MEMORY_MS = 5000;

const FAILOVER_CONNECTION = Symbol('FAILOVER_CONNECTION');

/** What INFO says of the server a connection reached. */
interface ServerIdentity {
  runId: string;
  replId: string;
  replId2: string;
}

/**
 * Notices a failover of the Redis primary as it happens, in every podium process, says it
 * in one log line with the old and the new primary, counts it
 * (podium_redis_failovers_total), and keeps /health/ready at 503 while one is under way.
 * - Behind Sentinel: connections of its own to every Sentinel, subscribed to the failover
 *   events. From the first of them (+try-failover: the leader starts; it promotes the
 *   replica a Sentinel tick or two later) until the command connection is ready again
 *   after +switch-master, the failover is under way: the publisher writes nothing and
 *   ReplicaBarrier confirms no write (with any REDIS_WAIT_REPLICAS, 0 included), because
 *   the old primary takes writes until its clients move and its resync as a replica throws
 *   them away (measured: a planned failover lost 8.5% of the 201s with WAIT 0, for ~1 s).
 * - Behind a plain REDIS_URL (one server, or a managed endpoint): INFO on every (re)connect
 *   of the command connection (a READONLY makes it reconnect); a primary with another
 *   run_id whose previous replication ID is the old primary's ID is a promoted replica.
 * - On a cluster (REDIS_CLUSTER_NODES): the slots' primaries as the client learns them;
 *   slots whose primary changed are a failover of their shard, and /health/ready is 503
 *   while CLUSTER INFO says a slot has no primary (cluster_state is not ok).
 */
@Injectable()
export class FailoverMonitor
  implements FailoverSignal, OnModuleInit, OnApplicationShutdown
{
  private readonly logger = new Logger('Failover');
  private failovers?: Counter;
  private currentEpoch = 0;
  /** Sentinels trying a failover now, and since when: several may try, one wins, the others abort. */
  private readonly trying = new Map<RedisClient, number>();
  /** After +switch-master, until the command connection is back on the new primary. */
  private switchedAt?: number;
  private lastSwitch?: string;
  private sentinels: RedisClient[] = [];
  private seen?: ServerIdentity;
  private readonly onReady = () => void this.identify();

  constructor(
    @Inject(PODIUM_SETTINGS) private readonly env: PodiumSettings,
    private readonly checks: ReadinessChecks,
    @Inject(FAILOVER_CONNECTION) private readonly connectionName: string,
    @Optional() @Inject(REDIS) private readonly redis?: RedisClient,
    @Optional() @Inject(METRICS_REGISTRY) private readonly registry?: Registry,
  ) {}

  get epoch(): number {
    return this.currentEpoch;
  }

  get failingOver(): boolean {
    return this.underWayFor() !== undefined;
  }

  /** How long the failover has been under way, if one is. */
  private underWayFor(): number | undefined {
    const now = Date.now();
    const since = [...this.trying.values(), this.switchedAt ?? now].reduce(
      (a, b) => Math.min(a, b),
    );
    return this.switchedAt !== undefined ||
      [...this.trying.values()].some((t) => now - t < FAILOVER_MAX_MS)
      ? now - since
      : undefined;
  }

  onModuleInit(): void {
    if (this.registry)
      this.failovers = new Counter({
        name: 'podium_redis_failovers_total',
        help: 'Failovers of the Redis primary this process saw: a +switch-master of the Sentinels, or behind REDIS_URL a promoted replica in place of the primary.',
        registers: [this.registry],
      });
    this.checks.add('redis-failover', (indicators) => {
      const check = indicators.check('redis-failover');
      const ms = this.underWayFor();
      return ms !== undefined
        ? check.down({
            message: `a failover of the primary is under way (${ms} ms)`,
          })
        : check.up();
    });
    const target = this.env.redisTarget;
    if (target.kind === 'sentinel') this.watchSentinels(target);
    else if (this.redis instanceof Cluster) this.watchCluster(this.redis);
    else if (this.redis) {
      this.redis.on('ready', this.onReady);
      if (this.redis.status === 'ready') this.onReady();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.redis?.off('ready', this.onReady);
    await Promise.all(
      this.sentinels.map((s) => s.quit().catch(() => s.disconnect())),
    );
  }

  private watchSentinels(target: SentinelTarget): void {
    this.sentinels = createSentinelClients(target, this.connectionName);
    for (const sentinel of this.sentinels) {
      sentinel.on('message', (channel: string, message: string) =>
        this.onSentinelEvent(sentinel, target.name, channel, message),
      );
      // Queued until the Sentinel answers; ioredis subscribes again after a reconnect.
      sentinel
        .subscribe(...UNDER_WAY, SWITCHED, ...GIVEN_UP)
        .catch(() => undefined);
    }
  }

  private onSentinelEvent(
    sentinel: RedisClient,
    name: string,
    channel: string,
    message: string,
  ) {
    const words = message.split(' ');
    if (channel === SWITCHED) {
      // <name> <old ip> <old port> <new ip> <new port>; every Sentinel says it once.
      const [master, oldIp, oldPort, newIp, newPort] = words;
      const change = `${oldIp}:${oldPort} to ${newIp}:${newPort}`;
      if (master !== name || change === this.lastSwitch) return;
      this.lastSwitch = change;
      this.currentEpoch++;
      this.trying.clear();
      this.endOnReconnect(`${newIp}:${newPort}`);
      this.failovers?.inc();
      this.logger.warn(
        `Redis failover: primary "${name}" moved from ${change} (Sentinel +switch-master)`,
      );
      return;
    }
    // <type> <name> <ip> <port> [@ <master name> <ip> <port>]: of the primary itself, or
    // of one of its replicas (the one selected and promoted).
    const primary = words[0] === 'master' ? words[1] : words[5];
    if (primary !== name || (words[0] !== 'master' && words[4] !== '@')) return;
    if (UNDER_WAY.includes(channel)) {
      if (this.trying.has(sentinel)) return;
      if (!this.failingOver) this.currentEpoch++;
      this.trying.set(sentinel, Date.now());
      this.logger.debug(
        `a Sentinel begins a failover of primary "${name}" (${channel})`,
      );
    } else if (GIVEN_UP.includes(channel)) {
      // Only this Sentinel gave up (another may have been elected and go on).
      this.trying.delete(sentinel);
      this.logger.debug(
        `a Sentinel gave up its failover of "${name}": ${channel}`,
      );
    }
  }

  /**
   * Every connection drops on +switch-master (ioredis' failover detector) and asks the
   * Sentinels again: the failover is over once the command connection is back, on the new
   * primary. Until then a write may still reach the old one.
   */
  private endOnReconnect(primary: string): void {
    const redis = this.redis;
    // Behind Sentinel the command connection is one server's (createRedis), with a socket.
    const stream = redis && 'stream' in redis ? redis.stream : undefined;
    const moved =
      redis?.status === 'ready' &&
      `${stream?.remoteAddress}:${stream?.remotePort}` === primary;
    if (!redis || redis.status === 'end' || moved) {
      this.switchedAt = undefined;
      return;
    }
    const switchedAt = (this.switchedAt = Date.now());
    const end = () => {
      clearTimeout(timer);
      redis.off('ready', end);
      if (this.switchedAt === switchedAt) this.switchedAt = undefined;
    };
    // A connection that does not come back soon says so itself (readiness, 503s).
    const timer = setTimeout(end, SWITCH_RECONNECT_MAX_MS).unref();
    redis.once('ready', end);
  }

  /**
   * On a cluster: the slots' primaries, as the client learns them (it asks the nodes again
   * after a MOVED or a node lost, and every few seconds). A slot whose primary changed is a
   * failover (or a slot moved by an operator); one line per change of primary, and
   * readiness 503 while a slot has no primary the cluster agrees on (CLUSTER INFO).
   */
  private watchCluster(cluster: Cluster): void {
    let owners = [...cluster.slots.map((nodes) => nodes?.[0])];
    // A refresh may ask a node whose view is still the old one: the slots seem to move back,
    // then forward again (seen under load: one failover logged three times). A move seen in
    // the last CLUSTER_MOVE_MEMORY_MS, or its reverse, is not another failover.
    const recent = new Map<string, number>();
    cluster.on('refresh', () => {
      const now = cluster.slots.map((nodes) => nodes?.[0]);
      const moves = new Map<string, number>();
      now.forEach((owner, slot) => {
        const before = owners[slot];
        if (before && owner && owner !== before) {
          const move = `${before} to ${owner}`;
          moves.set(move, (moves.get(move) ?? 0) + 1);
        }
      });
      owners = now;
      const at = Date.now();
      for (const [move, seenAt] of recent)
        if (at - seenAt > CLUSTER_MOVE_MEMORY_MS) recent.delete(move);
      for (const [move, slots] of moves) {
        const [from, to] = move.split(' to ');
        const known = recent.has(move) || recent.has(`${to} to ${from}`);
        recent.set(move, at);
        if (known) continue;
        this.currentEpoch++;
        this.failovers?.inc();
        this.logger.warn(
          `Redis Cluster failover: ${slots} slot(s) moved from ${move}`,
        );
      }
    });
    this.checks.add('redis-cluster', (indicators) =>
      indicators
        .check('redis-cluster')
        .attempt(async () => {
          const info = parseInfo(await clusterInfo(cluster));
          if (info.cluster_state !== 'ok')
            throw new Error(
              `cluster_state is ${info.cluster_state}: a slot has no primary`,
            );
        })
        .withTimeout(READINESS_TIMEOUT_MS),
    );
  }

  /** Reads who the command connection reached; a promoted replica in place of the primary seen before is a failover. */
  private async identify(): Promise<void> {
    let now: ServerIdentity | undefined;
    try {
      const info = parseInfo(await this.redis!.info());
      if (info.role !== 'master') return; // a replica: READONLY will make it reconnect
      now = {
        runId: info.run_id,
        replId: info.master_replid,
        replId2: info.master_replid2,
      };
    } catch {
      return; // the connection dropped again: the next ready tries again
    }
    const before = this.seen;
    this.seen = now;
    if (!before || before.runId === now.runId) return;
    const where = describeRedisTarget(this.env.redisTarget);
    if (now.replId2 === before.replId) {
      this.currentEpoch++;
      this.failovers?.inc();
      this.logger.warn(
        `Redis failover: the primary at ${where} is now run_id ${now.runId}, a promoted replica of run_id ${before.runId}`,
      );
    } else {
      this.logger.warn(
        `Redis at ${where} is another server now: run_id ${before.runId} before, ${now.runId} now, not its replica (a restart, or a server that replaced it)`,
      );
    }
  }
}

/** CLUSTER INFO from the first primary that answers. */
async function clusterInfo(cluster: Cluster): Promise<string> {
  let lastError: unknown = new Error('no primary known');
  for (const node of cluster.nodes('master')) {
    try {
      return (await node.call('CLUSTER', 'INFO')) as string;
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

/** INFO's `field:value` lines. */
function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#'))
      fields[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return fields;
}

/** The FailoverMonitor of the app, global; its Sentinel connections are named `<connectionName>-failover`. */
@Global()
@Module({})
export class FailoverModule {
  static forRoot(connectionName: string): DynamicModule {
    return {
      module: FailoverModule,
      providers: [
        {
          provide: FAILOVER_CONNECTION,
          useValue: `${connectionName}-failover`,
        },
        FailoverMonitor,
      ],
      exports: [FailoverMonitor],
    };
  }
}
