import { batchTable, type Doc, table } from '../markdown.js';
import type { Results } from '../results.js';
import {
  LABEL,
  latencySummaries,
  type LatencySummary,
  ms,
  PODIUM,
  ratio,
} from '../summaries.js';
import { fmt } from '../svg.js';

/** 2. Latency: a steady stream at each offered rate, per system, then p99 per listener. */
export function renderLatency(doc: Doc, results: Results): void {
  const plan = results.meta.plan;
  const lat = latencySummaries(results);
  if (!lat.length) return;
  doc.paragraph('## 2. Latency');
  doc.paragraph(
    `A steady stream at each offered rate for ${plan.latency.seconds} s (same process; each rate drained before the next). ` +
      "Latency of one order and one listener = the listener's effect applied in Redis (the reply to its script, pipeline or MULTI received, in the listeners process) − just before `OrderPublisher.record` was called in the bench, " +
      'on one machine clock (`performance.timeOrigin + performance.now()`). Pooled over the listeners; medians of the per-run percentiles. ' +
      '"publish" is how long publishing took in the bench: `OrderPublisher.record`, and for (c) the jobs\' adds, for (d) the XADD (it is inside every latency). "job wait" (queued and durable) is, from BullMQ\'s own timestamps of the jobs of sales-summary\'s group queue (one job per order for the group), the time from a job\'s creation until a worker took it.',
  );
  for (const rate of plan.latency.rates)
    renderLatencyAtRate(
      doc,
      rate,
      lat.filter((l) => l.rate === rate),
    );
  const listeners = [
    ...new Set(lat.flatMap((l) => Object.keys(l.perListenerP99))),
  ];
  doc.paragraph('p99 per listener (ms):');
  doc.paragraph(
    table(
      ['system', 'rate', ...listeners],
      lat.map((l) => [
        LABEL[l.system],
        l.rate,
        ...listeners.map((n) => ms(l.perListenerP99[n])),
      ]),
    ),
  );
}

/** One offered rate: its table, podium's batch sizes, its chart. */
function renderLatencyAtRate(
  doc: Doc,
  rate: number,
  rows: LatencySummary[],
): void {
  doc.paragraph(`### ${rate.toLocaleString('en-US')} orders/s`);
  doc.paragraph(latencyTable(rows));
  const batches = batchTable(
    rows
      .filter((r) => PODIUM.has(r.system))
      .map((r) => ({
        label: LABEL[r.system],
        batches: r.batches,
        durableGroups: r.durableGroups,
      })),
  );
  if (batches) {
    doc.paragraph('Batch sizes reached at this rate (stream and drain):');
    doc.paragraph(batches);
  }
  doc.chart(`latency-${rate}.svg`, `latency at ${rate}/s`);
}

function latencyTable(rows: LatencySummary[]): string {
  const seed = rows.find((r) => r.system === 'seed');
  return table(
    [
      'system',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'max ms',
      'p99 × (a)',
      'offered/s',
      'applied',
      'publish p50 / p99 ms',
      'job wait p50 / p99 ms',
      'listeners CPU ms/order',
      'redis CPU ms/order',
      'slowest listener (p99 ms)',
    ],
    rows.map((r) => {
      const worst = Object.entries(r.perListenerP99).sort(
        (a, b) => b[1] - a[1],
      )[0];
      return [
        LABEL[r.system],
        ms(r.p50),
        ms(r.p95),
        ms(r.p99),
        ms(r.max),
        r.system === 'seed' ? '1×' : ratio(r.p99, seed?.p99),
        fmt(r.achievedRate),
        r.runs === 0
          ? 'not run (could not keep up with the rate before)'
          : r.complete
            ? 'all'
            : `${(r.appliedShare * 100).toFixed(1)}% by the deadline`,
        `${ms(r.recordP50)} / ${ms(r.recordP99)}`,
        Number.isFinite(r.jobWaitP50)
          ? `${ms(r.jobWaitP50)} / ${ms(r.jobWaitP99)}`
          : '–',
        fmt(r.cpuMsPerOrder),
        fmt(r.redisCpuMsPerOrder),
        worst ? `${worst[0]} ${ms(worst[1])}` : '–',
      ];
    }),
  );
}
