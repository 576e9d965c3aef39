/** The SVG charts beside REPORT.md: one function per chart, each drawn only when its scenario ran. */
import { medianRun } from '../lib/stats.js';
import type { SlowRun } from '../scenarios/slow.js';
import type { Results } from './results.js';
import {
  bySystem,
  HTTP_LABEL,
  httpSummary,
  LABEL,
  latencySummaries,
  saturationSummary,
  SHORT,
} from './summaries.js';
import {
  barChart,
  type BarChartOptions,
  COLORS,
  fmt,
  lineChart,
} from './svg.js';
import { RSS_LIMIT_MB, TARGET } from './targets.js';

/** Every chart there are figures for, by file name. */
export function renderCharts(results: Results): Record<string, string> {
  const charts: Record<string, string | undefined> = {
    'saturation.svg': saturationChart(results),
    ...latencyCharts(results),
    'crash.svg': crashChart(results),
    ...slowCharts(results),
    'http.svg': httpChart(results),
  };
  return Object.fromEntries(
    Object.entries(charts).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    ),
  );
}

function saturationChart(results: Results): string | undefined {
  const plan = results.meta.plan;
  const sat = saturationSummary(results);
  if (!sat.length) return undefined;
  const seedRate = sat.find((s) => s.system === 'seed')?.rate;
  const bullmqRate = sat.find((s) => s.system === 'bullmq')?.rate;
  const svg = barChart({
    title: 'Saturation: orders/s fully applied by all five listeners',
    subtitle: `median of ${plan.reps.saturation} run(s), ${plan.saturation.orders.toLocaleString('en-US')} orders published as fast as possible; label: orders/s (× baseline a)`,
    categories: sat.map((s) => LABEL[s.system]),
    series: [
      { name: 'orders/s', color: '#1f77b4', values: sat.map((s) => s.rate) },
    ],
    unit: 'orders/s',
    label: (v) => `${fmt(v)}${seedRate ? ` (${fmt(v / seedRate, 2)}×)` : ''}`,
    refs: [
      ...(seedRate
        ? [
            {
              value: TARGET.ephemeralSaturationVsA * seedRate,
              label: `${TARGET.ephemeralSaturationVsA}× (a): ephemeral target`,
            },
            {
              value: TARGET.durableSaturationVsA * seedRate,
              label: `${TARGET.durableSaturationVsA}× (a): durable target`,
              color: '#2ca02c',
            },
          ]
        : []),
      ...(bullmqRate
        ? [
            {
              value: TARGET.durableSaturationVsC * bullmqRate,
              label: `${TARGET.durableSaturationVsC}× (c): durable target`,
              color: '#2ca02c',
            },
          ]
        : []),
    ],
  });
  // One colour per system.
  return colourBars(
    svg,
    sat.map((s) => COLORS[s.system]),
  );
}

/** One chart per offered rate: `latency-<rate>.svg`. */
function latencyCharts(results: Results): Record<string, string> {
  const charts: Record<string, string> = {};
  const lat = latencySummaries(results);
  for (const rate of results.meta.plan.latency.rates) {
    const rows = lat.filter((l) => l.rate === rate);
    if (!rows.length) continue;
    const seed = rows.find((r) => r.system === 'seed' && r.runs > 0);
    const seedP99 = seed && Number.isFinite(seed.p99) ? seed.p99 : undefined;
    charts[`latency-${rate}.svg`] = barChart({
      title: `Latency at ${rate.toLocaleString('en-US')} orders/s: purchase recorded → effect applied`,
      subtitle: `all listeners pooled; median over ${results.meta.plan.reps.latency} run(s); * = not all applied before the drain deadline`,
      categories: rows.map(
        (r) => `${LABEL[r.system]}${r.complete ? '' : ' *'}`,
      ),
      series: [
        { name: 'p50', color: '#9ecae1', values: rows.map((r) => r.p50) },
        { name: 'p95', color: '#4292c6', values: rows.map((r) => r.p95) },
        { name: 'p99', color: '#08519c', values: rows.map((r) => r.p99) },
      ],
      unit: 'ms',
      log: true,
      refs: latencyTargets(rate, seedP99),
    });
  }
  return charts;
}

/** The latency targets that apply at this rate, as reference lines. */
function latencyTargets(
  rate: number,
  seedP99: number | undefined,
): BarChartOptions['refs'] {
  return [
    ...(seedP99 !== undefined
      ? [
          {
            value: seedP99,
            label: `(a)'s p99: ephemeral target`,
          },
        ]
      : []),
    ...(rate === TARGET.durableP99Rate
      ? [
          {
            value: TARGET.durableP99Ms,
            label: `${TARGET.durableP99Ms} ms: durable p99 target`,
            color: '#2ca02c',
          },
        ]
      : []),
    ...(rate === TARGET.durableP99VsARate && seedP99 !== undefined
      ? [
          {
            value: TARGET.durableP99VsA * seedP99,
            label: `${TARGET.durableP99VsA}× (a)'s p99: durable target`,
            color: '#2ca02c',
          },
        ]
      : []),
  ];
}

function crashChart(results: Results): string | undefined {
  if (!results.crash.length) return undefined;
  const plan = results.meta.plan;
  const crash = [...bySystem(results.crash)].map(([system, runs]) => ({
    system,
    run: medianRun(runs, (r) => r.verification.lost)!,
  }));
  return barChart({
    title: 'Crash: kill -9 a third of the way through, restart 2 s later',
    subtitle: `${plan.crash.rate} orders/s for ${plan.crash.seconds} s; orders checked in the metric keys`,
    categories: crash.map((c) => LABEL[c.system]),
    series: [
      {
        name: 'announced while down',
        color: '#c7c7c7',
        values: crash.map((c) => c.run.announcedWhileDown),
      },
      {
        name: 'lost (worst listener)',
        color: '#d62728',
        values: crash.map((c) => c.run.verification.lost),
      },
      {
        name: 'double-counted',
        color: '#9467bd',
        values: crash.map((c) => c.run.verification.double),
      },
    ],
    unit: 'orders',
  });
}

/** The slow listener's and the mixed run's RSS and backlog over time: `slow-memory.svg`, `slow-backlog.svg`. */
function slowCharts(results: Results): Record<string, string> {
  const plan = results.meta.plan;
  const slowRuns = [...results.slow, ...results.mixed];
  if (!slowRuns.length) return {};
  const mid = [...bySystem(slowRuns)].map(([system, runs]) => ({
    system,
    run: medianRun(runs, (r) => r.peakRssMb)!,
  }));
  // Seconds from the start of the stream.
  const rel = (run: SlowRun, key: string) =>
    run.series
      .filter((p) => p.t >= run.streamStartS)
      .map((p) => [p.t - run.streamStartS, p[key]] as [number, number]);
  const lines = (key: string) =>
    mid.map(({ system, run }) => ({
      name: SHORT[system],
      color: COLORS[system],
      points: rel(run, key),
      dash: system === 'mixed',
    }));
  const span = [
    {
      from: 0,
      to: plan.slow.seconds,
      label: `${plan.slow.rate} orders/s`,
    },
  ];
  return {
    'slow-memory.svg': lineChart({
      title: 'Slow listener: RSS of the listeners process',
      subtitle: `slow-invoices takes ${20} ms per order; ${plan.slow.rate} orders/s for ${plan.slow.seconds} s`,
      xLabel: 'seconds since the stream started',
      yLabel: 'RSS (MB)',
      series: lines('rssMb'),
      refs: [{ value: RSS_LIMIT_MB, label: `${RSS_LIMIT_MB} MB target` }],
      spans: span,
    }),
    'slow-backlog.svg': lineChart({
      title:
        'Slow listener: orders published but not yet applied by slow-invoices',
      subtitle:
        'the backlog, wherever it waits (process memory, BullMQ queue, Redis output buffer)',
      xLabel: 'seconds since the stream started',
      yLabel: 'orders',
      series: lines('backlog'),
      spans: span,
    }),
  };
}

function httpChart(results: Results): string | undefined {
  const plan = results.meta.plan;
  const http = httpSummary(results);
  if (!http.length) return undefined;
  const bare = http.find((h) => h.system === 'bare')?.rate;
  const svg = barChart({
    title: 'Purchases over HTTP: 2xx answers per second',
    subtitle: `${plan.http.connections} autocannon connections for ${plan.http.seconds} s, median of ${plan.reps.http} run(s); label: purchases/s (× the bare endpoint)`,
    categories: http.map((h) => HTTP_LABEL[h.system] ?? h.system),
    series: [
      {
        name: 'purchases/s',
        color: '#1f77b4',
        values: http.map((h) => h.rate),
      },
    ],
    unit: 'purchases/s',
    label: (v) => `${fmt(v)}${bare ? ` (${fmt(v / bare, 2)}×)` : ''}`,
    refs: bare
      ? [
          {
            value: TARGET.httpEphemeralVsBare * bare,
            label: `${TARGET.httpEphemeralVsBare}× bare: ephemeral target`,
          },
          {
            value: TARGET.httpDurableVsBare * bare,
            label: `${TARGET.httpDurableVsBare}× bare: durable target`,
            color: '#2ca02c',
          },
        ]
      : [],
  });
  // The bare endpoint in (a)'s colour: it is the baseline here.
  return colourBars(
    svg,
    http.map((h) => (h.system === 'bare' ? COLORS.seed : COLORS[h.system])),
  );
}

/** barChart draws every bar of a one-series chart in its colour: give each bar its system's. */
function colourBars(svg: string, colours: string[]): string {
  let i = 0;
  return svg.replace(
    /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="#1f77b4">/g,
    (m) => m.replace('#1f77b4', colours[i++] ?? '#1f77b4'),
  );
}
