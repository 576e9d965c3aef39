import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { type DeliveryMode, Keyspace } from '@podium/core';
import { eventKey, type Order, ORDER } from '@podium/orders';
import { ClusterTopology, PrivateRedis } from '@podium/testing';
import { keySlot, type RedisClient } from '@podium/redis';
import { ListenersProcess, logBaseFor } from '../lib/child.js';
import { Collector } from '../lib/collector.js';
import { cpuSeconds, ownCpuSeconds } from '../lib/cpu.js';
import { Driver, now } from '../lib/driver.js';
import { EVENTS, listenerNames, PRICE, type SystemSpec } from '../lib/model.js';
import { expectedCounts, makeOrders } from '../lib/orders.js';
import { verify, type Verification } from '../lib/verify.js';
import { round, stepTimer, type Ctx } from './common.js';

/** Seconds of no orders before the window, for each redis-server's idle CPU. */
const IDLE_S = 1;

/** Where the orders go: one plain Redis, or a cluster of 1 or 3 primaries (no replicas). */
export type ClusterLayout = 'redis' | 'cluster-1' | 'cluster-3';
export const CLUSTER_LAYOUTS: ClusterLayout[] = [
  'redis',
  'cluster-1',
  'cluster-3',
];

/** One redis-server of the run, over the measurement window. */
export interface ShardFigure {
  port: number;
  /** 'spare': a cluster primary without slots (no keys, no subscriber): what the broadcast alone costs a node. */
  role: 'redis' | 'primary' | 'spare';
  slots: number;
  /** utime + stime of the redis-server (/proc/<pid>/stat) over the window, ms per order. */
  cpuMsPerOrder: number;
  /** Its CPU with no orders (1 s just before the window, from INFO cpu), ms per second. */
  idleCpuMsPerS: number;
  /** cpuMsPerOrder less that idle CPU over the window. */
  netCpuMsPerOrder: number;
  /** Commands it ran (INFO commandstats, every command), per order. */
  commandsPerOrder: number;
  /** PUBLISH commands it ran, per order. */
  publishesPerOrder: number;
  /** PUBLISH messages the cluster bus brought it from other nodes (CLUSTER INFO), per order. */
  busPublishesPerOrder: number;
  /** Pub/sub connections on it at the end (podium's subscriber(s)). */
  subscribers: number;
}

/** The most-used key (or slot) in the MONITOR sample. */
export interface HotSpot {
  name: string;
  port: number;
  /** Commands that touched it. */
  commands: number;
  /** Of the commands with keys on its node, and on all primaries. */
  shareOfNode: number;
  shareOfAll: number;
}

export interface ClusterRun {
  system: string;
  mode: DeliveryMode;
  layout: ClusterLayout;
  primaries: number;
  rep: number;
  orders: number;
  /** How fast the bench's 16 publishers recorded them (OrderPublisher.record). */
  publishRate: number;
  /** Orders applied by every listener per second: orders ÷ (last effect − first publish). */
  ordersPerSecond: number;
  complete: boolean;
  seconds: number;
  /** Every redis-server: the data nodes (primaries), then the spare. */
  shards: ShardFigure[];
  /** CPU of the data nodes together, ms per order. */
  redisCpuMsPerOrder: number;
  listenersCpuMsPerOrder: number;
  benchCpuMsPerOrder: number;
  /** MONITOR on every primary while `monitorOrders` more orders are published. */
  sample: {
    orders: number;
    /** Commands with keys seen, all primaries. */
    commands: number;
    /** Share of those commands each primary ran, by port. */
    nodeShares: Record<string, number>;
    /** Cluster only: how many of the listeners' 16 effects parts the sampled commands touched. */
    effectsParts?: number;
    hottestKey?: HotSpot;
    /** Cluster only: the slot (its first key named) with the most commands. */
    hottestSlot?: HotSpot;
    /** The five hottest keys, with their share of all primaries' commands. */
    topKeys: { key: string; share: number }[];
  };
  publishErrors: number;
  verification: Verification;
  timingsS: Record<string, number>;
}

interface Node {
  server: PrivateRedis;
  pid: number;
  role: ShardFigure['role'];
  slots: number;
}

interface Layout {
  /** podium's variables to reach it. */
  env: Record<string, string>;
  redisUrl: string;
  client: RedisClient;
  keys: Keyspace;
  nodes: Node[];
  destroy(): Promise<void>;
}

async function pidOf(server: PrivateRedis): Promise<number> {
  const info = (await server.call('INFO', 'server')) as string;
  return Number(/process_id:(\d+)/.exec(info)?.[1]);
}

async function startLayout(layout: ClusterLayout): Promise<Layout> {
  if (layout === 'redis') {
    const server = await PrivateRedis.start();
    return {
      env: {},
      redisUrl: server.url,
      client: server.client(),
      keys: Keyspace.singleRedis,
      nodes: [
        { server, pid: await pidOf(server), role: 'redis', slots: 16384 },
      ],
      destroy: () => server.destroy(),
    };
  }
  const primaries = layout === 'cluster-1' ? 1 : 3;
  // No replicas (throughput only); one spare primary without slots, to measure the broadcast apart.
  const topology = await ClusterTopology.start({
    primaries,
    replicasPerPrimary: 0,
    spares: 1,
  });
  try {
    const view = await topology.view();
    const slotsOf = (port: number) =>
      (view.find((e) => e.port === port)?.slots ?? []).reduce(
        (n, [from, to]) => n + to - from + 1,
        0,
      );
    const nodes: Node[] = [];
    for (const server of await topology.primaries())
      nodes.push({
        server,
        pid: await pidOf(server),
        role: 'primary',
        slots: slotsOf(server.port),
      });
    for (const server of topology.spares)
      nodes.push({ server, pid: await pidOf(server), role: 'spare', slots: 0 });
    return {
      // REDIS_URL gives no address on a cluster (only credentials and TLS).
      env: { REDIS_CLUSTER_NODES: topology.nodesEnv },
      redisUrl: 'redis://127.0.0.1:1',
      client: topology.client(),
      keys: Keyspace.cluster,
      nodes,
      destroy: () => topology.destroy(),
    };
  } catch (err) {
    await topology.destroy();
    throw err;
  }
}

/** The redis-server's user + system CPU seconds, as INFO cpu gives them (getrusage of the process). */
async function rusageSeconds(node: Node): Promise<number> {
  const info = (await node.server.call('INFO', 'cpu')) as string;
  const field = (name: string) =>
    Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return field('used_cpu_sys') + field('used_cpu_user');
}

/** INFO commandstats: calls of every command, and of PUBLISH; CLUSTER INFO: PUBLISH messages received over the bus. */
async function counters(
  node: Node,
): Promise<{ calls: number; publishes: number; bus: number }> {
  const stats = (await node.server.call('INFO', 'commandstats')) as string;
  let calls = 0;
  let publishes = 0;
  for (const m of stats.matchAll(/^cmdstat_(\S+?):calls=(\d+)/gm)) {
    calls += Number(m[2]);
    if (m[1] === 'publish') publishes = Number(m[2]);
  }
  let bus = 0;
  if (node.role !== 'redis') {
    const info = (await node.server.call('CLUSTER', 'INFO')) as string;
    bus = Number(
      /cluster_stats_messages_publish_received:(\d+)/.exec(info)?.[1] ?? 0,
    );
  }
  return { calls, publishes, bus };
}

/** The keys a command names (for EVAL/EVALSHA/FCALL the KEYS), or none for commands without keys. */
function keysOf(args: string[]): string[] {
  const cmd = args[0]?.toLowerCase() ?? '';
  if (/^(eval|evalsha|eval_ro|evalsha_ro|fcall|fcall_ro)$/.test(cmd))
    return args.slice(3, 3 + Number(args[2] ?? 0));
  if (
    /^(publish|spublish|subscribe|psubscribe|unsubscribe|punsubscribe|ping|info|cluster|client|wait|select|multi|exec|discard|script|hello|auth|readonly|readwrite|command|config|memory|monitor|quit|echo|time|dbsize|role|function|slowlog|latency)$/.test(
      cmd,
    ) ||
    args.length < 2
  )
    return [];
  // bzpopmin and the like name their keys first; the rest of the arguments are counted as the first key's.
  return [args[1]];
}

/** Counts, per primary, the commands touching each key while `during` runs (MONITOR). */
async function monitorSample(
  nodes: Node[],
  cluster: boolean,
  during: () => Promise<unknown>,
): Promise<ClusterRun['sample'] & { orders: 0 }> {
  const primaries = nodes.filter((n) => n.role !== 'spare');
  const byKey = new Map<string, { port: number; n: number }>();
  const bySlot = new Map<
    string,
    { port: number; n: number; keys: Map<string, number> }
  >();
  const perNode = new Map<number, number>();
  const parts = new Set<string>();
  const connections: Redis[] = [];
  const monitors = await Promise.all(
    primaries.map(async (node) => {
      const connection = new Redis(node.server.connectionOptions);
      connections.push(connection);
      const monitor = await connection.monitor();
      monitor.on('monitor', (_time: string, args: string[]) => {
        const keys = keysOf(args);
        if (keys.length === 0) return;
        perNode.set(node.server.port, (perNode.get(node.server.port) ?? 0) + 1);
        for (const key of new Set(keys)) {
          const part = /^\{(part\d+-\d+)\}/.exec(key)?.[1];
          if (part) parts.add(part);
          const entry = byKey.get(key) ?? { port: node.server.port, n: 0 };
          entry.n++;
          byKey.set(key, entry);
        }
        if (cluster) {
          // A command's keys share one slot; the slot's own keys are counted too, to name it.
          const slot = String(keySlot(keys[0]));
          const entry = bySlot.get(slot) ?? {
            port: node.server.port,
            n: 0,
            keys: new Map<string, number>(),
          };
          entry.n++;
          entry.keys.set(keys[0], (entry.keys.get(keys[0]) ?? 0) + 1);
          bySlot.set(slot, entry);
        }
      });
      return monitor;
    }),
  );
  try {
    await during();
    await sleep(100); // the last replies' MONITOR lines
  } finally {
    for (const monitor of monitors) monitor.disconnect();
    for (const connection of connections) connection.disconnect();
  }
  const all = [...perNode.values()].reduce((a, b) => a + b, 0);
  const hottest = (
    map: Map<string, { port: number; n: number; keys?: Map<string, number> }>,
  ) => {
    const [name, top] =
      [...map.entries()].sort((a, b) => b[1].n - a[1].n)[0] ?? [];
    if (!name || !top) return undefined;
    // A slot: named with its three busiest keys and their share of its commands.
    const keys = top.keys
      ? [...top.keys.entries()]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 3)
          .map(([k, n]) => `${k} ${Math.round((n / top.n) * 100)}%`)
      : [];
    return {
      name: keys.length ? `slot ${name}: ${keys.join(', ')}` : name,
      port: top.port,
      commands: top.n,
      shareOfNode: round(top.n / (perNode.get(top.port) ?? 1), 4),
      shareOfAll: round(top.n / Math.max(1, all), 4),
    };
  };
  return {
    orders: 0,
    commands: all,
    nodeShares: Object.fromEntries(
      [...perNode.entries()].map(([port, n]) => [
        String(port),
        round(n / Math.max(1, all), 4),
      ]),
    ),
    ...(cluster && { effectsParts: parts.size }),
    hottestKey: hottest(byKey),
    ...(cluster && { hottestSlot: hottest(bySlot) }),
    topKeys: [...byKey.entries()]
      .sort((a, b) => b[1].n - a[1].n)
      .slice(0, 5)
      .map(([key, { n }]) => ({ key, share: round(n / Math.max(1, all), 4) })),
  };
}

/** The bench's orders, with ids that put each order hash in its event's slot on a cluster (as the box office makes them). */
function ordersFor(keys: Keyspace, count: number, seed: number): Order[] {
  const orders = makeOrders(count, seed);
  return keys.isCluster
    ? orders.map((o) => ({ ...o, orderId: keys.newId(ORDER, o) }))
    : orders;
}

/**
 * Cluster: the saturation of scenario 1 on one plain Redis, a 1-primary and a 3-primary
 * cluster (the test kit's ClusterTopology, with a spare primary that holds no slots): the
 * bench's publisher (OrderPublisher.record on ioredis' Cluster client, REDIS_CLUSTER_NODES)
 * and podium's listeners process on the same layout. CPU of every redis-server over the
 * window; then MONITOR on every primary for a further batch, for the hottest key.
 */
export async function clusterRun(
  ctx: Ctx,
  system: SystemSpec,
  layout: ClusterLayout,
  rep: number,
): Promise<ClusterRun> {
  const {
    orders: count,
    concurrency,
    warmup,
    monitorOrders,
    deadlineS,
  } = ctx.plan.cluster;
  const mode = system.mode ?? 'ephemeral';
  const { timings, lap } = stepTimer();
  const names = listenerNames('standard');
  const place = await startLayout(layout);
  let proc: ListenersProcess | undefined;
  let driver: Driver | undefined;
  try {
    lap('topology');
    // The seed's events, as BenchRedis.fresh() writes them (on a cluster each hash has a slot of its own).
    for (const name of EVENTS)
      await place.client.hset(eventKey(name), {
        name,
        price: String(PRICE),
        sold: '0',
      });
    const collector = new Collector(names);
    const tag = `cluster-${layout}-r${rep}`;
    proc = await ListenersProcess.start({
      system,
      variant: 'standard',
      redisUrl: place.redisUrl,
      logBase: logBaseFor(ctx.logDir, tag, system.id),
      onSamples: (m) => collector.add(m),
      env: place.env,
    });
    driver = Driver.create(place.redisUrl, 'podium', 'standard', place.env);
    lap('startup');
    const published: Order[] = [];
    const waitApplied = async (until: number): Promise<boolean> => {
      const expected = expectedCounts(published, names, 'standard');
      for (;;) {
        if (collector.applied.every((n, i) => n >= expected[i])) {
          await proc!.flush();
          return true;
        }
        if (now() > until) return false;
        await sleep(50);
      }
    };
    const warm = ordersFor(place.keys, warmup, 31);
    published.push(...warm);
    await driver.paced(warm, 1000);
    if (!(await waitApplied(now() + 30_000)))
      throw new Error(
        `${system.label} on ${layout}: the warm-up was not all applied`,
      );
    await sleep(ctx.plan.pauseMs);
    lap('warmup');
    // What each redis-server uses with no orders (cron, and on a cluster the bus's gossip), to tell the
    // broadcast from it. From INFO cpu (getrusage, to the microsecond): /proc counts 10 ms ticks, too coarse for 1 s.
    const idle0 = await Promise.all(place.nodes.map(rusageSeconds));
    const idleStart = performance.now();
    await sleep(IDLE_S * 1000);
    const idle1 = await Promise.all(place.nodes.map(rusageSeconds));
    const idleS = (performance.now() - idleStart) / 1000;
    const idleMsPerS = place.nodes.map(
      (_, i) => ((idle1[i] - idle0[i]) * 1000) / idleS,
    );

    const orders = ordersFor(place.keys, count, 32);
    const cpu0 = place.nodes.map((n) => cpuSeconds(n.pid));
    const stats0 = await Promise.all(place.nodes.map(counters));
    const listeners0 = cpuSeconds(proc.pid);
    const bench0 = ownCpuSeconds();
    published.push(...orders);
    const stream = await driver.saturate(orders, concurrency);
    const complete = await waitApplied(stream.startMs + deadlineS * 1000);
    const end = complete
      ? collector.lastApplied(new Set(orders.map((o) => o.orderId)))
      : now();
    const cpu1 = place.nodes.map((n) => cpuSeconds(n.pid));
    const stats1 = await Promise.all(place.nodes.map(counters));
    const listenersCpu = cpuSeconds(proc.pid) - listeners0;
    const benchCpu = ownCpuSeconds() - bench0;
    lap('measure');

    const more = ordersFor(place.keys, monitorOrders, 33);
    published.push(...more);
    const sample = await monitorSample(place.nodes, place.keys.isCluster, () =>
      driver!.saturate(more, concurrency),
    );
    await waitApplied(now() + deadlineS * 1000);
    lap('monitor');

    const subscribers = await Promise.all(
      place.nodes.map(
        async (n) =>
          ((await n.server.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string)
            .trim()
            .split('\n')
            .filter(Boolean).length,
      ),
    );
    await proc.stop();
    const publishErrors = driver.errors;
    await driver.close();
    driver = undefined;
    const verification = await verify(
      place.client,
      published,
      'standard',
      {},
      place.keys,
    );
    if (publishErrors)
      verification.problems.push(`${publishErrors} publishes failed`);
    lap('check');
    const perOrder = (cpuS: number) => round((cpuS * 1000) / orders.length, 4);
    const seconds = (end - stream.startMs) / 1000;
    const shards: ShardFigure[] = place.nodes.map((n, i) => ({
      port: n.server.port,
      role: n.role,
      slots: n.slots,
      cpuMsPerOrder: perOrder(cpu1[i] - cpu0[i]),
      idleCpuMsPerS: round(idleMsPerS[i], 2),
      netCpuMsPerOrder: perOrder(
        Math.max(0, cpu1[i] - cpu0[i] - (idleMsPerS[i] / 1000) * seconds),
      ),
      commandsPerOrder: round(
        (stats1[i].calls - stats0[i].calls) / orders.length,
        2,
      ),
      publishesPerOrder: round(
        (stats1[i].publishes - stats0[i].publishes) / orders.length,
        2,
      ),
      busPublishesPerOrder: round(
        (stats1[i].bus - stats0[i].bus) / orders.length,
        2,
      ),
      subscribers: subscribers[i],
    }));
    return {
      system: system.id,
      mode,
      layout,
      primaries: place.nodes.filter((n) => n.role !== 'spare').length,
      rep,
      orders: orders.length,
      publishRate: round(stream.achievedRate, 0),
      ordersPerSecond: round(orders.length / seconds, 0),
      complete,
      seconds: round(seconds, 3),
      shards,
      redisCpuMsPerOrder: round(
        shards
          .filter((s) => s.role !== 'spare')
          .reduce((a, s) => a + s.cpuMsPerOrder, 0),
        4,
      ),
      listenersCpuMsPerOrder: perOrder(listenersCpu),
      benchCpuMsPerOrder: perOrder(benchCpu),
      sample: { ...sample, orders: more.length },
      publishErrors,
      verification,
      timingsS: timings,
    };
  } finally {
    await driver?.close().catch(() => undefined);
    await proc?.kill().catch(() => undefined);
    await place.destroy();
  }
}
