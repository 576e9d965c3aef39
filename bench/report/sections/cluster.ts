import { type Doc, table } from '../markdown.js';
import type { Results } from '../results.js';
import { clusterSummary } from '../summaries.js';
import { fmt } from '../svg.js';

type ClusterRow = ReturnType<typeof clusterSummary>[number];

/** 8. Redis Cluster: scenario 1's saturation on one Redis and on clusters, per shard. */
export function renderCluster(doc: Doc, results: Results): void {
  const cluster = clusterSummary(results);
  if (!cluster.length) return;
  const c = results.meta.plan.cluster;
  doc.paragraph(
    '## 8. Redis Cluster: one Redis, a 1-primary and a 3-primary cluster',
  );
  doc.paragraph(
    `The saturation of scenario 1 (${c.orders.toLocaleString('en-US')} orders from ${c.concurrency} concurrent publishers after ${c.warmup} warm-up orders) on one plain Redis and on clusters of 1 and 3 primaries without replicas ` +
      "(the test kit's `ClusterTopology`), each with one **spare** primary that serves no slots: it holds no keys and has no subscriber, yet the cluster bus brings it every `PUBLISH`, so its CPU is what the broadcast alone costs a node. " +
      "The bench's publisher (`OrderPublisher.record`) runs on ioredis' Cluster client and the cluster's key layout (`REDIS_CLUSTER_NODES`; order ids made in their event's slot, as the box office makes them), and so does podium's listeners process. " +
      'Orders/s = orders ÷ (last effect applied − first publish). Redis CPU: utime + stime of each redis-server (`/proc/<pid>/stat`) from the first publish to the last effect, per order; commands and `PUBLISH` from `INFO commandstats`, bus-delivered `PUBLISH` from `CLUSTER INFO` (`cluster_stats_messages_publish_received`), over the same window. ' +
      `Then ${c.monitorOrders.toLocaleString('en-US')} more orders with \`MONITOR\` on every primary (after the CPU window: MONITOR costs Redis CPU): each command's keys (EVALSHA's KEYS; else its first argument) counted, for the hottest key's and the hottest slot's share of all commands with keys. ` +
      'On 2 cores every process (the publisher, the listeners, each redis-server) shares the machine, so orders/s is what the machine carries, not a shard; the CPU per order per shard is the figure that scales.',
  );
  doc.paragraph(clusterTable(cluster));
  doc.paragraph('Each redis-server of the median runs:');
  doc.paragraph(redisServersTable(cluster));
  doc.paragraph(
    'The five hottest keys (share of all sampled commands with keys): ' +
      cluster
        .map(
          ({ layout, system, mid: r }) =>
            `${layout} ${system}: ${r.sample.topKeys.map((k) => `${k.key} ${fmt(k.share * 100)}%`).join(', ')}`,
        )
        .join('; ') +
      ". \"Effects parts in use\": the `{part<n>-<k>}` tags the sampled commands named; the cluster layout splits the effects in 16 parts by the CRC16 of the order id's random characters (not of its last 4, which steer its hash into its event's slot: CRC16 being linear, those would put every order of one event in the same part), so an event's orders use every part. " +
      'What scales out and what does not: [docs/scale.md](../../docs/scale.md).',
  );
}

/** One row per layout and mode (median run): rate, Redis CPU per primary, the hot spots, losses. */
function clusterTable(cluster: ClusterRow[]): string {
  return table(
    [
      'layout',
      'mode',
      'orders/s',
      'record rate',
      'Redis CPU ms/order, each primary',
      'all primaries',
      'spare (broadcast only) ms/order, net of its idle CPU',
      'PUBLISH reaching each node per order',
      'listeners CPU ms/order',
      'hottest key (share of commands)',
      'hottest slot (share)',
      'effects parts in use (of 16)',
      'lost',
      'double',
    ],
    cluster.map(({ layout, system, mid: r }) => {
      const primaries = r.shards.filter((s) => s.role !== 'spare');
      const spare = r.shards.find((s) => s.role === 'spare');
      return [
        layout,
        system,
        `${fmt(r.ordersPerSecond)}${r.complete ? '' : ' (incomplete)'}`,
        fmt(r.publishRate),
        primaries.map((s) => fmt(s.cpuMsPerOrder)).join(' / '),
        fmt(r.redisCpuMsPerOrder),
        spare
          ? `${fmt(spare.cpuMsPerOrder)} (${fmt(spare.netCpuMsPerOrder ?? Number.NaN)})`
          : '–',
        r.shards
          .map((s) => fmt(s.publishesPerOrder + s.busPublishesPerOrder))
          .join(' / '),
        fmt(r.listenersCpuMsPerOrder),
        r.sample.hottestKey
          ? `${r.sample.hottestKey.name} (${fmt(r.sample.hottestKey.shareOfAll * 100)}%)`
          : '–',
        r.sample.hottestSlot
          ? `${r.sample.hottestSlot.name} (${fmt(r.sample.hottestSlot.shareOfAll * 100)}%)`
          : '–',
        r.sample.effectsParts ?? '–',
        r.verification.lost,
        r.verification.double,
      ];
    }),
  );
}

/** One row per redis-server of each median run, the spare included. */
function redisServersTable(cluster: ClusterRow[]): string {
  return table(
    [
      'layout',
      'mode',
      'port',
      'role',
      'slots',
      'CPU ms/order',
      'idle CPU ms/s',
      'commands/order',
      'PUBLISH run/order',
      'PUBLISH by the bus/order',
      'subscribers',
      'share of the sampled commands',
    ],
    cluster.flatMap(({ layout, system, mid: r }) =>
      r.shards.map((s) => [
        layout,
        system,
        s.port,
        s.role,
        fmt(s.slots),
        fmt(s.cpuMsPerOrder),
        fmt(s.idleCpuMsPerS ?? Number.NaN),
        fmt(s.commandsPerOrder),
        fmt(s.publishesPerOrder),
        fmt(s.busPublishesPerOrder),
        s.subscribers,
        s.role === 'spare'
          ? '–'
          : `${fmt((r.sample.nodeShares[String(s.port)] ?? 0) * 100)}%`,
      ]),
    ),
  );
}
