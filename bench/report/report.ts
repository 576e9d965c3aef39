import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_SYSTEMS, MIXED, SLOW_LISTENER } from '../lib/model.js';
import { median, medianRun } from '../lib/stats.js';
import type { RunCommon } from '../scenarios/common.js';
import type { LatencyPhase } from '../scenarios/latency.js';
import type { SlowRun } from '../scenarios/slow.js';
import type { Results } from './results.js';
import { barChart, COLORS, fmt, lineChart } from './svg.js';

const LABEL: Record<string, string> = Object.fromEntries(
  [...ALL_SYSTEMS, MIXED].map((s) => [s.id, s.label]),
);
const SHORT: Record<string, string> = {
  seed: '(a) seed',
  nest: '(b) Nest',
  bullmq: '(c) BullMQ',
  streams: '(d) Streams',
  ephemeral: 'ephemeral',
  queued: 'queued',
  durable: 'durable',
  mixed: 'mixed',
};
const PODIUM = new Set(['ephemeral', 'queued', 'durable', 'mixed']);
const BASE: Record<string, string> = { seed: '(a)', bullmq: '(c)' };

/** The targets, each judged against the baselines of the same run (medians). */
const TARGET = {
  ephemeralSaturationVsA: 2,
  durableSaturationVsA: 1,
  durableSaturationVsC: 2,
  ephemeralP99Ms: 5,
  ephemeralP99Rate: 2000,
  durableP99Ms: 20,
  durableP99Rate: 500,
  rssMb: 250,
};
const RSS_LIMIT_MB = TARGET.rssMb;

const ms = (v: number | undefined) =>
  v === undefined || !Number.isFinite(v) ? '–' : `${fmt(v)}`;
const ratio = (v: number | undefined, base: number | undefined) =>
  v === undefined ||
  base === undefined ||
  !Number.isFinite(v) ||
  !Number.isFinite(base) ||
  base === 0
    ? '–'
    : `${fmt(v / base, 2)}×`;
const yes = (ok: boolean | null) =>
  ok === null ? 'not measured' : ok ? '**met**' : '**missed**';

function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) =>
    `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  // Right-align the columns that hold only figures.
  const numeric = head.map(
    (_, i) =>
      i > 0 &&
      rows.every((r) =>
        /^(≥ )?[-–\d.,]+(×|%| ms| MB)?$/.test(String(r[i]).trim()),
      ),
  );
  return [
    line(head),
    line(numeric.map((n) => (n ? '---:' : '---'))),
    ...rows.map(line),
  ].join('\n');
}

function bySystem<T extends { system: string }>(runs: T[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const run of runs)
    map.set(run.system, [...(map.get(run.system) ?? []), run]);
  return map;
}

interface Target {
  name: string;
  figure: string;
  met: boolean | null;
  why?: string;
}

interface LatencySummary {
  system: string;
  rate: number;
  runs: number;
  complete: boolean;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  othersP99: number;
  appliedShare: number;
  achievedRate: number;
  perListenerP99: Record<string, number>;
  cpuMsPerOrder: number;
  redisCpuMsPerOrder: number;
  benchCpuMsPerOrder: number;
  recordP50: number;
  recordP99: number;
  jobWaitP50: number;
  jobWaitP99: number;
  jobRunP50: number;
  /** Share of one core the listeners process used during the stream and drain. */
  busy: number;
}

function latencySummaries(results: Results): LatencySummary[] {
  const out: LatencySummary[] = [];
  for (const [system, runs] of bySystem(results.latency)) {
    for (const rate of results.meta.plan.latency.rates) {
      const phases = runs
        .map((r) => r.phases.find((p) => p.rate === rate))
        .filter((p): p is LatencyPhase => Boolean(p));
      if (phases.length === 0) {
        out.push({
          system,
          rate,
          runs: 0,
          complete: false,
          p50: NaN,
          p95: NaN,
          p99: NaN,
          max: NaN,
          othersP99: NaN,
          appliedShare: 0,
          achievedRate: NaN,
          perListenerP99: {},
          cpuMsPerOrder: NaN,
          redisCpuMsPerOrder: NaN,
          benchCpuMsPerOrder: NaN,
          recordP50: NaN,
          recordP99: NaN,
          jobWaitP50: NaN,
          jobWaitP99: NaN,
          jobRunP50: NaN,
          busy: NaN,
        });
        continue;
      }
      const listeners = Object.keys(phases[0].perListener);
      out.push({
        system,
        rate,
        runs: phases.length,
        complete: phases.every((p) => p.complete),
        p50: median(phases.map((p) => p.all.p50)),
        p95: median(phases.map((p) => p.all.p95)),
        p99: median(phases.map((p) => p.all.p99)),
        max: median(phases.map((p) => p.all.max)),
        othersP99: median(phases.map((p) => p.othersThanInvoices.p99)),
        appliedShare: Math.min(...phases.map((p) => p.appliedShare)),
        achievedRate: median(phases.map((p) => p.achievedRate)),
        perListenerP99: Object.fromEntries(
          listeners.map((l) => [
            l,
            median(phases.map((p) => p.perListener[l]?.p99 ?? NaN)),
          ]),
        ),
        cpuMsPerOrder: median(
          phases.map((p) => (p.cpu.listeners * 1000) / p.orders),
        ),
        redisCpuMsPerOrder: median(
          phases.map((p) => (p.cpu.redis * 1000) / p.orders),
        ),
        benchCpuMsPerOrder: median(
          phases.map((p) => (p.cpu.bench * 1000) / p.orders),
        ),
        recordP50: median(phases.map((p) => p.record?.p50 ?? NaN)),
        recordP99: median(phases.map((p) => p.record?.p99 ?? NaN)),
        jobWaitP50: median(phases.map((p) => p.jobs?.waited.p50 ?? NaN)),
        jobWaitP99: median(phases.map((p) => p.jobs?.waited.p99 ?? NaN)),
        jobRunP50: median(phases.map((p) => p.jobs?.ran.p50 ?? NaN)),
        busy: median(phases.map((p) => p.cpu.listeners / p.cpu.wall)),
      });
    }
  }
  return out;
}

function allRuns(results: Results): { scenario: string; run: RunCommon }[] {
  return [
    ...results.saturation.map((run) => ({ scenario: 'saturation', run })),
    ...results.latency.map((run) => ({ scenario: 'latency', run })),
    ...results.crash.map((run) => ({ scenario: 'crash', run })),
    ...results.slow.map((run) => ({ scenario: 'slow listener', run })),
    ...results.mixed.map((run) => ({ scenario: 'mixed', run })),
  ];
}

export function writeReport(dir: string, results: Results): string[] {
  const files: string[] = [];
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    files.push(path);
  };
  write('results.json', `${JSON.stringify(results, null, 1)}\n`);
  const charts = renderCharts(results);
  for (const [name, svg] of Object.entries(charts)) write(name, svg);
  write('REPORT.md', renderMarkdown(results, Object.keys(charts)));
  return files.filter(
    (f) => f.endsWith('REPORT.md') || f.endsWith('results.json'),
  );
}

// ---------------------------------------------------------------- summaries

function saturationSummary(results: Results) {
  return [...bySystem(results.saturation)].map(([system, runs]) => {
    const rate = median(runs.map((r) => r.ordersPerSecond));
    const mid = medianRun(runs, (r) => r.ordersPerSecond)!;
    return {
      system,
      runs,
      rate,
      mid,
      all: runs.map((r) => r.ordersPerSecond),
      cpuListenersMs: median(
        runs.map((r) => (r.cpu.listeners * 1000) / r.orders),
      ),
      cpuRedisMs: median(runs.map((r) => (r.cpu.redis * 1000) / r.orders)),
      cpuBenchMs: median(runs.map((r) => (r.cpu.bench * 1000) / r.orders)),
    };
  });
}

function targets(results: Results): Target[] {
  const sat = new Map(saturationSummary(results).map((s) => [s.system, s]));
  const lat = latencySummaries(results);
  const out: Target[] = [];
  const cpu = (s: ReturnType<typeof saturationSummary>[number]) =>
    `listeners process ${fmt(s.cpuListenersMs)} ms, redis-server ${fmt(s.cpuRedisMs)} ms, the bench's publisher ${fmt(s.cpuBenchMs)} ms`;

  const satTarget = (system: string, base: string, factor: number) => {
    const name = `${system} saturation ≥ ${fmt(factor)}× ${BASE[base]}`;
    const s = sat.get(system);
    const b = sat.get(base);
    if (!s || !b) return out.push({ name, figure: 'not measured', met: null });
    const r = s.rate / b.rate;
    const t: Target = {
      name,
      figure: `${fmt(s.rate)} vs ${fmt(b.rate)} orders/s = ${fmt(r, 2)}× ${BASE[base]}`,
      met: r >= factor,
    };
    if (!t.met) {
      const oneCore = 1000 / s.cpuListenersMs;
      const allCores =
        (1000 * results.meta.machine.cpus) /
        (s.cpuListenersMs + s.cpuRedisMs + s.cpuBenchMs);
      t.why =
        `${fmt(factor)}× ${BASE[base]} is ${fmt(factor * b.rate)} orders/s. CPU per order, podium ${system}: ${cpu(s)}; ` +
        `its listeners process (one Node thread) allows at most ~${fmt(oneCore)} orders/s on one core, and the three processes on ${results.meta.machine.cpus} cores at most ~${fmt(allCores)}. ` +
        `${BASE[base]}: ${cpu(b)}.` +
        (s.runs.some((r) => !r.complete)
          ? ` Not every run finished within ${results.meta.plan.saturation.deadlineS} s (longest stall ${fmt(Math.max(...s.runs.map((r) => r.longestStallS)))} s).`
          : '');
    }
    out.push(t);
  };
  satTarget('ephemeral', 'seed', TARGET.ephemeralSaturationVsA);
  satTarget('durable', 'seed', TARGET.durableSaturationVsA);
  satTarget('durable', 'bullmq', TARGET.durableSaturationVsC);

  const latTarget = (system: string, rate: number, limit: number) => {
    const name = `${system} p99 ≤ ${fmt(limit)} ms at ${rate.toLocaleString('en-US')} orders/s`;
    const s = lat.find((l) => l.system === system && l.rate === rate);
    if (!s || s.runs === 0)
      return out.push({ name, figure: 'not measured', met: null });
    const a = lat.find(
      (l) => l.system === 'seed' && l.rate === rate && l.runs > 0,
    );
    const t: Target = {
      name,
      figure:
        `p99 ${ms(s.p99)} ms (p50 ${ms(s.p50)}, p95 ${ms(s.p95)})${a ? `; (a) p99 ${ms(a.p99)} ms, ${ratio(s.p99, a.p99)} (a)` : ''}` +
        `${s.complete ? '' : `; only ${fmt(s.appliedShare * 100)}% applied before the drain deadline`}`,
      met: s.complete && s.p99 <= limit,
    };
    if (!t.met) {
      const worst = Object.entries(s.perListenerP99).sort(
        (a, b) => b[1] - a[1],
      )[0];
      const parts = [
        s.complete
          ? `slowest listener ${worst?.[0]} at p99 ${ms(worst?.[1])} ms`
          : `it could not keep up with ${rate} orders/s: the backlog grew during the stream`,
        `the listeners process was busy ${fmt(s.busy * 100)}% of a core; CPU per order: listeners process ${fmt(s.cpuMsPerOrder)} ms, redis-server ${fmt(s.redisCpuMsPerOrder)} ms, the bench's publisher ${fmt(s.benchCpuMsPerOrder)} ms` +
          (a
            ? ` ((a): ${fmt(a.cpuMsPerOrder)}, ${fmt(a.redisCpuMsPerOrder)} and ${fmt(a.benchCpuMsPerOrder)} ms)`
            : ''),
        `publishing (OrderPublisher.record) alone took p50 ${ms(s.recordP50)} / p99 ${ms(s.recordP99)} ms`,
        ...(Number.isFinite(s.jobWaitP50)
          ? [
              `jobs waited p50 ${ms(s.jobWaitP50)} / p99 ${ms(s.jobWaitP99)} ms in BullMQ before a worker took them`,
            ]
          : []),
      ];
      t.why = `${parts.join('; ')}.`;
    }
    out.push(t);
  };
  latTarget('ephemeral', TARGET.ephemeralP99Rate, TARGET.ephemeralP99Ms);
  latTarget('durable', TARGET.durableP99Rate, TARGET.durableP99Ms);

  {
    const name = `listeners RSS ≤ ${RSS_LIMIT_MB} MB in every scenario (podium processes)`;
    const runs = allRuns(results);
    const podiumRuns = runs.filter(({ run }) => PODIUM.has(run.system));
    if (podiumRuns.length === 0)
      out.push({ name, figure: 'not measured', met: null });
    else {
      const worst = (list: typeof runs) => {
        const perScenario = new Map<
          string,
          { mb: number; system: string; heapMb: number }
        >();
        for (const { scenario, run } of list) {
          const cur = perScenario.get(scenario);
          if (!cur || run.peakRssMb > cur.mb)
            perScenario.set(scenario, {
              mb: run.peakRssMb,
              system: run.system,
              heapMb: run.peakHeapUsedMb,
            });
        }
        return perScenario;
      };
      const perScenario = worst(podiumRuns);
      const seed = worst(runs.filter(({ run }) => run.system === 'seed'));
      const over = [...perScenario].filter(([, v]) => v.mb > RSS_LIMIT_MB);
      const resting = median(podiumRuns.map(({ run }) => run.restingRssMb));
      out.push({
        name,
        figure: [...perScenario]
          .map(
            ([s, v]) =>
              `${s} ${fmt(v.mb)} MB (${v.system}${seed.has(s) ? `; ${ratio(v.mb, seed.get(s)!.mb)} (a)` : ''})`,
          )
          .join('; '),
        met: over.length === 0,
        ...(over.length > 0 && {
          why:
            `over in ${over.map(([s, v]) => `${s} (${v.system}: V8 heap in use up to ${fmt(v.heapMb)} MB)`).join(', ')}; ` +
            `podium's listeners process takes ${fmt(resting)} MB at rest (after start-up, no order yet); while it is behind it holds every announcement it has read, with the work started for it`,
        }),
      });
    }
  }
  {
    const runs = allRuns(results).filter(({ run }) => PODIUM.has(run.system));
    const doubles = runs.filter(({ run }) => run.verification.double > 0);
    const c = results.crash.filter((r) => r.system === 'bullmq');
    out.push({
      name: '0 double counts in every podium run',
      figure: runs.length
        ? `${runs.reduce((s, { run }) => s + run.verification.double, 0)} double-counted over ${runs.length} runs` +
          (c.length
            ? `; (c) after its kill -9: ${c.map((r) => r.verification.double).join(', ')}`
            : '')
        : 'not measured',
      met: runs.length ? doubles.length === 0 : null,
      ...(doubles.length > 0 && {
        why: doubles
          .map(
            ({ scenario, run }) =>
              `${scenario} ${run.system} run ${run.rep}: ${run.verification.double}`,
          )
          .join('; '),
      }),
    });
  }
  {
    const runs = allRuns(results).filter(
      ({ run }) => run.system === 'durable' || run.system === 'mixed',
    );
    const lost = (run: RunCommon) =>
      run.system === 'mixed'
        ? (run.verification.listeners.find((l) => l.listener === SLOW_LISTENER)
            ?.lost ?? 0)
        : run.verification.lost;
    const bad = runs.filter(({ run }) => lost(run) > 0);
    const crashed = runs.filter(({ scenario }) => scenario === 'crash').length;
    const a = results.crash.filter((r) => r.system === 'seed');
    out.push({
      name: '0 lost in durable, crash included (durable runs, and the durable listener of the mixed run)',
      figure: runs.length
        ? `${runs.reduce((s, { run }) => s + lost(run), 0)} lost over ${runs.length} runs (${crashed} crash)` +
          (a.length
            ? `; (a) lost ${a.map((r) => fmt(r.verification.lost)).join(', ')} in its crash`
            : '')
        : 'not measured',
      met: runs.length ? bad.length === 0 : null,
      ...(bad.length > 0 && {
        why: bad
          .map(
            ({ scenario, run }) =>
              `${scenario} ${run.system} run ${run.rep}: ${lost(run)}`,
          )
          .join('; '),
      }),
    });
  }
  return out;
}

// ---------------------------------------------------------------- charts

function renderCharts(results: Results): Record<string, string> {
  const charts: Record<string, string> = {};
  const sat = saturationSummary(results);
  const seedRate = sat.find((s) => s.system === 'seed')?.rate;
  const bullmqRate = sat.find((s) => s.system === 'bullmq')?.rate;
  if (sat.length) {
    charts['saturation.svg'] = barChart({
      title: 'Saturation: orders/s fully applied by all five listeners',
      subtitle: `median of ${results.meta.plan.reps.saturation} run(s), ${results.meta.plan.saturation.orders.toLocaleString('en-US')} orders published as fast as possible; label: orders/s (× baseline a)`,
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
            ]
          : []),
        ...(seedRate
          ? [
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
    charts['saturation.svg'] = colourBars(
      charts['saturation.svg'],
      sat.map((s) => COLORS[s.system]),
    );
  }
  const lat = latencySummaries(results);
  for (const rate of results.meta.plan.latency.rates) {
    const rows = lat.filter((l) => l.rate === rate);
    if (!rows.length) continue;
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
      refs: [
        ...(rate === TARGET.ephemeralP99Rate
          ? [
              {
                value: TARGET.ephemeralP99Ms,
                label: `${TARGET.ephemeralP99Ms} ms: ephemeral p99 target`,
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
      ],
    });
  }
  if (results.crash.length) {
    const crash = [...bySystem(results.crash)].map(([system, runs]) => ({
      system,
      run: medianRun(runs, (r) => r.verification.lost)!,
    }));
    charts['crash.svg'] = barChart({
      title: 'Crash: kill -9 a third of the way through, restart 2 s later',
      subtitle: `${results.meta.plan.crash.rate} orders/s for ${results.meta.plan.crash.seconds} s; orders checked in the metric keys`,
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
  const slowRuns = [...results.slow, ...results.mixed];
  if (slowRuns.length) {
    const mid = [...bySystem(slowRuns)].map(([system, runs]) => ({
      system,
      run: medianRun(runs, (r) => r.peakRssMb)!,
    }));
    const rel = (run: SlowRun, key: string) =>
      run.series
        .filter((p) => p.t >= run.streamStartS)
        .map((p) => [p.t - run.streamStartS, p[key]] as [number, number]);
    const span = [
      {
        from: 0,
        to: results.meta.plan.slow.seconds,
        label: `${results.meta.plan.slow.rate} orders/s`,
      },
    ];
    charts['slow-memory.svg'] = lineChart({
      title: 'Slow listener: RSS of the listeners process',
      subtitle: `slow-invoices takes ${20} ms per order; ${results.meta.plan.slow.rate} orders/s for ${results.meta.plan.slow.seconds} s`,
      xLabel: 'seconds since the stream started',
      yLabel: 'RSS (MB)',
      series: mid.map(({ system, run }) => ({
        name: SHORT[system],
        color: COLORS[system],
        points: rel(run, 'rssMb'),
        dash: system === 'mixed',
      })),
      refs: [{ value: RSS_LIMIT_MB, label: `${RSS_LIMIT_MB} MB target` }],
      spans: span,
    });
    charts['slow-backlog.svg'] = lineChart({
      title:
        'Slow listener: orders published but not yet applied by slow-invoices',
      subtitle:
        'the backlog, wherever it waits (process memory, BullMQ queue, Redis output buffer)',
      xLabel: 'seconds since the stream started',
      yLabel: 'orders',
      series: mid.map(({ system, run }) => ({
        name: SHORT[system],
        color: COLORS[system],
        points: rel(run, 'backlog'),
        dash: system === 'mixed',
      })),
      spans: span,
    });
  }
  return charts;
}

function colourBars(svg: string, colours: string[]): string {
  let i = 0;
  return svg.replace(
    /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="#1f77b4">/g,
    (m) => m.replace('#1f77b4', colours[i++] ?? '#1f77b4'),
  );
}

// ---------------------------------------------------------------- markdown

function renderMarkdown(results: Results, charts: string[]): string {
  const { meta } = results;
  const plan = meta.plan;
  const out: string[] = [];
  const p = (...lines: string[]) => out.push(...lines, '');
  const img = (name: string, alt: string) =>
    charts.includes(name) ? p(`![${alt}](${name})`) : undefined;

  p(`# podium bench report${plan.name === 'quick' ? ' (quick run)' : ''}`);
  p(
    `Run ${meta.startedAt} in ${Math.floor(meta.durationS / 60)} min ${meta.durationS % 60} s: ${meta.machine.cpus} cores (${meta.machine.cpuModel}), ` +
      `${meta.machine.memoryGiB} GiB, Node ${meta.machine.node}, Redis ${meta.machine.redis} (a private redis-server), commit ${meta.machine.commit}. ` +
      `Load average at start ${meta.loadAverageAtStart.join(' ')}${meta.loadAverageAtEnd ? `, at end ${meta.loadAverageAtEnd.join(' ')}` : ''}.`,
  );
  if (plan.name === 'quick')
    p(
      '> **Quick run**: short streams and one run per measurement. The figures show that everything works and roughly where each system stands; quote the full run (`npm run bench`).',
    );
  p(
    "Systems: **(a)** the seed's listen loops on raw ioredis, **(b)** the same handlers on a plain Nest Redis-transport microservice, " +
      '**(c)** the durable layer a NestJS user would write by hand (a BullMQ queue per listener, the same handlers, no idempotency), ' +
      "**(d)** Redis Streams read in batches by a consumer group per listener, each batch's effects and acknowledgements in one MULTI (exactly once), " +
      "and podium's listeners process in each delivery mode. " +
      "Every system gets the same orders, recorded by podium's `OrderPublisher.record` in the bench process (for (c) the bench then adds the jobs, for (d) the stream entry), and runs as its own OS process. " +
      'Each podium figure is also given as a ratio to (a) (for throughput higher is better; for latency, memory and losses lower is better). How everything is measured: [bench/README.md](../README.md).',
  );

  p('## Targets');
  p(
    table(
      ['target', 'figure', 'result', 'why, when missed'],
      targets(results).map((t) => [t.name, t.figure, yes(t.met), t.why ?? '']),
    ),
  );

  // 1. Saturation
  const sat = saturationSummary(results);
  if (sat.length) {
    const seed = sat.find((s) => s.system === 'seed');
    const bullmq = sat.find((s) => s.system === 'bullmq');
    p('## 1. Saturation');
    p(
      `${plan.saturation.orders.toLocaleString('en-US')} orders published as fast as ${plan.saturation.concurrency} concurrent publishers allow (after ${plan.warmup} warm-up orders); ` +
        `throughput = orders ÷ (last effect applied − first publish). Median of ${plan.reps.saturation} run(s); CPU is per order over the same window. ` +
        'Longest stall = the longest stretch after the first publish in which no effect was applied. Redis bytes/order = used_memory left behind per order (order hash included).',
    );
    p(
      table(
        [
          'system',
          'orders/s',
          '× (a)',
          '× (c)',
          'each run',
          'longest stall s',
          'publish rate',
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
          fmt(s.mid.publishRate),
          fmt(s.cpuListenersMs),
          fmt(s.cpuRedisMs),
          fmt(s.cpuBenchMs),
          fmt(s.mid.peakRssMb),
          fmt(s.mid.peakHeapUsedMb),
          fmt(s.mid.redisBytesPerOrder),
          Math.max(...s.runs.map((r) => r.verification.lost)),
          Math.max(...s.runs.map((r) => r.verification.double)),
        ]),
      ),
    );
    if (sat.some((s) => s.runs.some((r) => !r.complete)))
      p(
        `"≥": not every effect was applied within ${plan.saturation.deadlineS} s of the first publish (or nothing was applied for ${plan.saturation.idleS} s); ` +
          'the rate counts the share applied by the worst listener over the time waited. The rest was still queued (see Checks), not lost.',
      );
    img('saturation.svg', 'saturation chart');
  }

  // 2. Latency
  const lat = latencySummaries(results);
  if (lat.length) {
    p('## 2. Latency');
    p(
      `A steady stream at each offered rate for ${plan.latency.seconds} s (same process; each rate drained before the next). ` +
        "Latency of one order and one listener = the listener's effect applied in Redis (the reply to its script, pipeline or MULTI received, in the listeners process) − just before `OrderPublisher.record` was called in the bench, " +
        'on one machine clock (`performance.timeOrigin + performance.now()`). Pooled over the listeners; medians of the per-run percentiles. ' +
        '"publish" is how long publishing took in the bench: `OrderPublisher.record`, and for (c) the jobs\' adds, for (d) the XADD (it is inside every latency). "job wait" (queued and durable) is, from BullMQ\'s own timestamps of the jobs of sales-summary\'s group queue (one job per order for the group), the time from a job\'s creation until a worker took it.',
    );
    for (const rate of plan.latency.rates) {
      const rows = lat.filter((l) => l.rate === rate);
      const seed = rows.find((r) => r.system === 'seed');
      p(`### ${rate.toLocaleString('en-US')} orders/s`);
      p(
        table(
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
        ),
      );
      img(`latency-${rate}.svg`, `latency at ${rate}/s`);
    }
    const listeners = [
      ...new Set(lat.flatMap((l) => Object.keys(l.perListenerP99))),
    ];
    p('p99 per listener (ms):');
    p(
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

  // 3. Crash
  if (results.crash.length) {
    p('## 3. Crash');
    p(
      `A steady ${plan.crash.rate} orders/s for ${plan.crash.seconds} s; the listeners process is killed with SIGKILL a third of the way through and a new one started ${plan.crash.downMs / 1000} s later. ` +
        `Then the bench reads the metric keys until every effect is there, or until they have not changed for ${plan.crash.settleS} s, but for the systems whose listeners run BullMQ jobs (podium queued and durable, (c)) not before ` +
        `${fmt((plan.crash.lockMs + 2 * plan.crash.stalledCheckMs + 1000) / 1000)} s after the restart (QUEUE_LOCK_MS ${plan.crash.lockMs} + 2 × QUEUE_STALLED_CHECK_MS ${plan.crash.stalledCheckMs} + 1 s: ` +
        `a dead worker's jobs come back once their lock expired and a stalled check ran); at most ${plan.crash.deadlineS} s after the stream. ` +
        '"Announced while down" = orders published between the kill and the new process being subscribed ("down ms"). ' +
        'Lost and double-counted orders come from the metric keys (worst listener for lost; all listeners for double).',
    );
    const crash = [...bySystem(results.crash)].map(([system, runs]) => ({
      system,
      run: medianRun(runs, (r) => r.verification.lost)!,
      runs,
    }));
    const seed = crash.find((c) => c.system === 'seed');
    p(
      table(
        [
          'system',
          'announced while down',
          'down ms',
          'lost',
          'lost ÷ announced while down',
          'lost × (a)',
          'double',
          'duplicates skipped by podium',
          'all applied',
          'settled s after stream',
          'peak RSS MB',
        ],
        crash.map(({ system, run }) => [
          LABEL[system],
          run.announcedWhileDown,
          fmt(run.downMs),
          run.verification.lost,
          run.announcedWhileDown
            ? fmt(run.verification.lost / run.announcedWhileDown, 3)
            : '–',
          system === 'seed'
            ? '1×'
            : ratio(run.verification.lost, seed?.run.verification.lost),
          run.verification.double,
          run.duplicatesSkipped ?? '–',
          run.complete ? 'yes' : 'no',
          fmt(run.settleS),
          fmt(run.peakRssMb),
        ]),
      ),
    );
    p('Lost per listener:');
    const names = crash[0].run.verification.listeners.map((l) => l.listener);
    p(
      table(
        ['system', ...names],
        crash.map(({ system, run }) => [
          LABEL[system],
          ...run.verification.listeners.map(
            (l) => `${l.lost}${l.double ? ` (+${l.double} double)` : ''}`,
          ),
        ]),
      ),
    );
    img('crash.svg', 'crash chart');
  }

  // 4 & 5. Slow listener and mixed
  const slowRows = [...bySystem([...results.slow, ...results.mixed])].map(
    ([system, runs]) => ({ system, run: medianRun(runs, (r) => r.peakRssMb)! }),
  );
  if (slowRows.length) {
    const seed = slowRows.find((r) => r.system === 'seed');
    const lat500 = new Map(
      lat.filter((l) => l.rate === 500).map((l) => [l.system, l]),
    );
    p('## 4. Slow listener, and 5. mixed delivery');
    p(
      `slow-invoices (customer-invoices' effect after \`await sleep(20)\`) replaces customer-invoices; ${plan.slow.rate} orders/s for ${plan.slow.seconds} s, then up to ${plan.slow.drainS} s to drain. ` +
        'Backlog = orders published but not yet applied by slow-invoices. "Queued" = where that backlog waits when the run ends (BullMQ queue for podium queued/durable; the in-process queue for (a)); it is not counted as lost. ' +
        `Scenario 5 (**${LABEL.mixed}**) is the last row. Redis's pub/sub output-buffer limit is the default (32 MB hard, 8 MB for 60 s).`,
    );
    p(
      table(
        [
          'system',
          'peak RSS MB',
          'RSS × (a)',
          'backlog peak',
          'backlog at stream end',
          'queue depth peak',
          'sub buffer peak KB',
          'dropped by Redis',
          'lost',
          'still queued',
          'double',
          'all applied',
        ],
        slowRows.map(({ system, run }) => {
          const slowCheck = run.verification.listeners.find(
            (l) => l.listener === SLOW_LISTENER,
          );
          return [
            LABEL[system],
            fmt(run.peakRssMb),
            system === 'seed'
              ? '1×'
              : ratio(run.peakRssMb, seed?.run.peakRssMb),
            run.backlogPeak,
            run.backlogAtStreamEnd,
            run.queueDepthPeak ?? '–',
            fmt(run.peakSubscriberBufferKb),
            run.outputBufferDisconnects,
            run.verification.lost,
            slowCheck?.queued ?? 0,
            run.verification.double,
            run.complete ? 'yes' : `no (within ${plan.slow.drainS} s)`,
          ];
        }),
      ),
    );
    p(
      'Do the other listeners suffer? Latency in ms of the four other listeners pooled, against the same four in scenario 2 at 500 orders/s:',
    );
    p(
      table(
        [
          'system',
          'others p50',
          'others p99',
          'others p99 in scenario 2',
          'others p99 × (a)',
          'slow-invoices p50',
          'slow-invoices p99',
        ],
        slowRows.map(({ system, run }) => {
          const ref = lat500.get(system === 'mixed' ? 'ephemeral' : system);
          return [
            LABEL[system],
            ms(run.others.p50),
            ms(run.others.p99),
            ref
              ? `${ms(ref.othersP99)}${system === 'mixed' ? ' (ephemeral)' : ''}`
              : '–',
            system === 'seed'
              ? '1×'
              : ratio(run.others.p99, seed?.run.others.p99),
            ms(run.slow.p50),
            ms(run.slow.p99),
          ];
        }),
      ),
    );
    img('slow-memory.svg', 'slow listener RSS');
    img('slow-backlog.svg', 'slow listener backlog');
  }

  // Checks
  p('## Checks');
  p(
    'After every run the bench stops the listeners process and reads the metric keys back: `sales:<event>` sets and `sales_summary` counters, `invoices:<who>` sets, the histograms (all events and per event), ' +
      '`Opening Ceremony:total_orders` with `lottery:winners`, and the `alerts` list (ALERTS_MAX raised so nothing is trimmed). Every order buys one ticket, so each counter counts orders. ' +
      'The table lists every run; lost = worst listener, double = all listeners.',
  );
  p(
    table(
      [
        'scenario',
        'system',
        'run',
        'orders',
        'lost',
        'still queued',
        'double',
        'problems',
        'log warnings/errors',
        'startup ms',
      ],
      allRuns(results).map(({ scenario, run }) => [
        scenario,
        SHORT[run.system] ?? run.system,
        run.rep,
        run.verification.listeners.reduce((m, l) => Math.max(m, l.expected), 0),
        run.verification.lost,
        Math.max(0, ...run.verification.listeners.map((l) => l.queued)),
        run.verification.double,
        run.verification.problems.join('; ') || 'none',
        run.logProblems.count
          ? `${run.logProblems.count}: ${run.logProblems.first[0] ?? ''}`
          : '0',
        fmt(run.startupMs),
      ]),
    ),
  );
  if (results.failures.length) {
    p('## Failed runs');
    p(
      table(
        ['scenario', 'system', 'run', 'error'],
        results.failures.map((f) => [f.scenario, f.system, f.rep, f.error]),
      ),
    );
  }
  p(`Raw figures: [results.json](results.json).`);
  return out.join('\n');
}
