import { median } from '../../lib/stats.js';
import { batchTable, type Doc, table } from '../markdown.js';
import type { Results } from '../results.js';
import {
  LABEL,
  ms,
  PODIUM,
  ratio,
  saturationSummary,
  TRACED_OF,
} from '../summaries.js';
import { fmt } from '../svg.js';

type Saturation = ReturnType<typeof saturationSummary>[number];

/** 1. Saturation: orders published as fast as possible, per system. */
export function renderSaturation(doc: Doc, results: Results): void {
  const plan = results.meta.plan;
  const sat = saturationSummary(results);
  if (!sat.length) return;
  doc.paragraph('## 1. Saturation');
  doc.paragraph(
    `${plan.saturation.orders.toLocaleString('en-US')} orders published as fast as ${plan.saturation.concurrency} concurrent publishers allow (after ${plan.warmup} warm-up orders); ` +
      `throughput = orders ÷ (last effect applied − first publish). Median of ${plan.reps.saturation} run(s); CPU is per order over the same window. ` +
      'Longest stall = the longest stretch after the first publish in which no effect was applied. Redis bytes/order = used_memory left behind per order (order hash included). ' +
      "Publish rate = records/s of the bench's publisher (median); record = how long one `OrderPublisher.record` (and the system's publish step) took.",
  );
  doc.paragraph(saturationTable(sat));
  if (sat.some((s) => s.runs.some((r) => !r.complete)))
    doc.paragraph(
      `"≥": not every effect was applied within ${plan.saturation.deadlineS} s of the first publish (or nothing was applied for ${plan.saturation.idleS} s); ` +
        'the rate counts the share applied by the worst listener over the time waited. The rest was still queued (see Checks), not lost.',
    );
  const traced = Object.entries(TRACED_OF).flatMap(([id, plain]) => {
    const t = sat.find((s) => s.system === id);
    const p = sat.find((s) => s.system === plain);
    return t && p
      ? [
          `${plain} ${ratio(t.rate, p.rate)} (CPU per order: listeners ${fmt(p.cpuListenersMs)} → ${fmt(t.cpuListenersMs)} ms, redis-server ${fmt(p.cpuRedisMs)} → ${fmt(t.cpuRedisMs)} ms, the bench's publisher ${fmt(p.cpuBenchMs)} → ${fmt(t.cpuBenchMs)} ms; record p50 ${ms(p.recordP50)} → ${ms(t.recordP50)} ms)`,
        ]
      : [];
  });
  if (traced.length)
    doc.paragraph(
      'Tracing at 100% sampling ("traced": the listeners process and the bench\'s publisher export every span over OTLP/HTTP, protobuf, to a receiver in the bench that keeps nothing), traced ÷ untraced orders/s: ' +
        `${traced.join('; ')}.`,
    );
  const podiumSat = sat.filter((s) => PODIUM.has(s.system));
  const batches = batchTable(
    podiumSat.map((s) => ({
      label: LABEL[s.system],
      batches: s.mid.batches,
    })),
  );
  if (batches) {
    doc.paragraph(
      "Batch sizes reached (median run; from the end of the warm-up to the last effect): orders per unit of work in the listeners process (`podium_batch_orders`: an announcements batch, a job), and per job the bench's publisher queued (`podium_publisher_job_orders`). " +
        'p50 and p90 come from the histogram buckets (1, 2, 5, 10, 20, 50, 100, 200, 500), spread linearly over the whole numbers each holds.',
    );
    doc.paragraph(batches);
  }
  if (podiumSat.some((s) => s.mid.redisBytesByKind))
    renderRedisBytesByKind(doc, podiumSat);
  renderRedisCommands(doc, sat);
  doc.chart('saturation.svg', 'saturation chart');
}

/** One row per system: the rate, each run's, CPU, memory, losses. */
function saturationTable(sat: Saturation[]): string {
  const seed = sat.find((s) => s.system === 'seed');
  const bullmq = sat.find((s) => s.system === 'bullmq');
  return table(
    [
      'system',
      'orders/s',
      '× (a)',
      '× (c)',
      'each run',
      'longest stall s',
      'publish rate',
      'record p50 / p99 ms',
      'listeners CPU ms/order',
      'redis CPU ms/order',
      'publisher CPU ms/order',
      'peak RSS MB',
      'peak heap MB',
      'Redis bytes/order',
      'lost',
      'double',
    ],
    sat.map((s) => [
      LABEL[s.system],
      `${s.runs.some((r) => !r.complete) ? '≥ ' : ''}${fmt(s.rate)}`,
      s.system === 'seed' ? '1×' : ratio(s.rate, seed?.rate),
      s.system === 'bullmq' ? '1×' : ratio(s.rate, bullmq?.rate),
      s.runs
        .map((r) =>
          r.complete
            ? fmt(r.ordersPerSecond)
            : `≥ ${fmt(r.ordersPerSecond)} (${fmt(r.appliedShare * 100)}% applied in ${fmt(r.seconds)} s)`,
        )
        .join(', '),
      fmt(median(s.runs.map((r) => r.longestStallS))),
      fmt(s.publishRate),
      `${ms(s.recordP50)} / ${ms(s.recordP99)}`,
      fmt(s.cpuListenersMs),
      fmt(s.cpuRedisMs),
      fmt(s.cpuBenchMs),
      fmt(s.mid.peakRssMb),
      fmt(s.mid.peakHeapUsedMb),
      fmt(s.mid.redisBytesPerOrder),
      Math.max(...s.runs.map((r) => r.verification.lost)),
      Math.max(...s.runs.map((r) => r.verification.double)),
    ]),
  );
}

/** What podium's keys hold at the end of the run, by kind, per order. */
function renderRedisBytesByKind(doc: Doc, podiumSat: Saturation[]): void {
  const kinds = ['orders', 'markers', 'queues', 'podium', 'effects'] as const;
  doc.paragraph(
    "What the keys hold at the end of the run, bytes per order (`MEMORY USAGE` of every key, median run): the order hashes, podium's applied markers, its BullMQ queues, its other keys, the listeners' effects. `MEMORY USAGE` estimates each key with its allocator overhead, and used_memory also counts Redis's own tables and buffers, so the two differ a little.",
  );
  doc.paragraph(
    table(
      ['system', 'used_memory', ...kinds, 'sum of keys'],
      podiumSat.map((s) => {
        const k = s.mid.redisBytesByKind;
        return [
          LABEL[s.system],
          fmt(s.mid.redisBytesPerOrder),
          ...kinds.map((x) => (k ? fmt(k[x]) : '–')),
          k ? fmt(kinds.reduce((sum, x) => sum + k[x], 0)) : '–',
        ];
      }),
    ),
  );
}

/** Systems whose Redis time is broken down, in this order: (d), then podium's modes. */
const BREAKDOWN = ['streams', 'ephemeral', 'queued', 'durable'];

/**
 * Where Redis spends its time per order at saturation (median run), by command, from INFO
 * commandstats over the same window as the CPU figures.
 */
function renderRedisCommands(doc: Doc, sat: Saturation[]): void {
  const shown = BREAKDOWN.flatMap((id) => {
    const s = sat.find((x) => x.system === id);
    return s?.mid.redisCommands ? [s] : [];
  });
  if (shown.length === 0) return;
  const usec = (s: Saturation, name: string) =>
    s.mid.redisCommands?.[name]?.usec ?? 0;
  const calls = (s: Saturation, name: string) =>
    s.mid.redisCommands?.[name]?.calls ?? 0;
  const names = [
    ...new Set(shown.flatMap((s) => Object.keys(s.mid.redisCommands!))),
  ].sort(
    (a, b) =>
      Math.max(...shown.map((s) => usec(s, b))) -
      Math.max(...shown.map((s) => usec(s, a))),
  );
  doc.paragraph('### Where Redis spends its time');
  doc.paragraph(
    'Per order at saturation (median run), from `INFO commandstats` before and after the same window as the CPU figures: ' +
      "each command's microseconds inside Redis, and its calls per order. `evalsha` is every Lua script whole (podium: the record script, " +
      'one per order; the effects and claim scripts, one per batch); the commands a script calls are counted again in their own rows, so ' +
      "the rows add up to more than the total. The total is redis-server's CPU (getrusage), which also holds what no command accounts " +
      'for: reading and writing sockets, pub/sub fan-out to the subscribers, expiry.',
  );
  doc.paragraph(
    table(
      [
        'command',
        ...shown.map((s) => `${LABEL[s.system]}: µs / calls per order`),
      ],
      [
        [
          '**redis-server CPU, total**',
          ...shown.map((s) => `**${Math.round(s.cpuRedisMs * 1000)} µs**`),
        ],
        ...names
          .filter((name) => shown.some((s) => usec(s, name) >= 0.05))
          .map((name) => [
            `\`${name}\``,
            ...shown.map((s) =>
              calls(s, name) > 0
                ? `${fmt(usec(s, name))} / ${fmt(calls(s, name))}`
                : '',
            ),
          ]),
      ],
    ),
  );
}
