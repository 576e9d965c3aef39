import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BatchFigure } from '../lib/metrics.js';
import { SLOW_LISTENER } from '../lib/model.js';
import { median, medianRun } from '../lib/stats.js';
import type { Verification } from '../lib/verify.js';
import {
  CAUGHT_UP_HOLD_S,
  CAUGHT_UP_LAG_MS,
  type NetworkCutRun,
} from '../scenarios/network-cut.js';
import type { SlowRun } from '../scenarios/slow.js';
import type { Results } from './results.js';
import {
  allRuns,
  bySystem,
  clusterSummary,
  CUT_NAME,
  failoverLabel,
  failoverSummary,
  HTTP_LABEL,
  httpSummary,
  LABEL,
  latencySummaries,
  ms,
  PODIUM,
  ratio,
  saturationSummary,
  SHORT,
  triggerOf,
  TRIGGER_NAME,
} from './summaries.js';
import { barChart, COLORS, fmt, lineChart } from './svg.js';
import {
  publisherJobsMissing,
  RSS_LIMIT_MB,
  TARGET,
  targets,
} from './targets.js';

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

const orders = (v: number) => (v === null || v === Infinity ? '> 500' : fmt(v));

/** Answers by outcome, as the failover tables give them: "201: 812, 503: 40". */
const answersText = (answers: Record<string, number>) =>
  Object.entries(answers)
    .map(([k, v]) => `${k}: ${fmt(v)}`)
    .join(', ');

/** podium's own account of a listener: announced / applied / lost. */
const accountText = (
  account: { announced: number; applied: number; lost: number } | undefined,
) =>
  account
    ? `${fmt(account.announced)} / ${fmt(account.applied)} / ${fmt(account.lost)}`
    : '–';

/**
 * The batch sizes each podium run reached: orders per unit of work in the listeners process
 * (an announcements batch, a job), and per job its publisher queued.
 */
function batchTable(
  rows: { label: string; batches?: BatchFigure[]; durableGroups?: string[] }[],
): string | undefined {
  const lines: (string | number)[][] = [];
  for (const { label, batches, durableGroups } of rows) {
    if (!batches) continue;
    for (const b of batches)
      lines.push([
        label,
        `${b.side}: ${b.source === 'job' ? 'jobs' : 'announcement batches'}`,
        b.group,
        fmt(b.units),
        fmt(b.orders),
        fmt(b.mean),
        orders(b.p50),
        orders(b.p90),
      ]);
    for (const group of publisherJobsMissing(batches, durableGroups))
      lines.push([
        label,
        'publisher: jobs',
        group,
        '–',
        '–',
        'not recorded: podium_publisher_job_orders has no observation',
        '–',
        '–',
      ]);
  }
  if (!lines.length) return undefined;
  return table(
    [
      'system',
      'unit of work',
      'group',
      'units',
      'orders',
      'orders per unit: mean',
      'p50',
      'p90',
    ],
    lines,
  );
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
      refs: [
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
  const http = httpSummary(results);
  const bare = http.find((h) => h.system === 'bare')?.rate;
  if (http.length) {
    charts['http.svg'] = barChart({
      title: 'Purchases over HTTP: 2xx answers per second',
      subtitle: `${results.meta.plan.http.connections} autocannon connections for ${results.meta.plan.http.seconds} s, median of ${results.meta.plan.reps.http} run(s); label: purchases/s (× the bare endpoint)`,
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
    charts['http.svg'] = colourBars(
      charts['http.svg'],
      http.map((h) => (h.system === 'bare' ? COLORS.seed : COLORS[h.system])),
    );
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
        'Longest stall = the longest stretch after the first publish in which no effect was applied. Redis bytes/order = used_memory left behind per order (order hash included). ' +
        "Publish rate = records/s of the bench's publisher (median); record = how long one `OrderPublisher.record` (and the system's publish step) took.",
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
      ),
    );
    if (sat.some((s) => s.runs.some((r) => !r.complete)))
      p(
        `"≥": not every effect was applied within ${plan.saturation.deadlineS} s of the first publish (or nothing was applied for ${plan.saturation.idleS} s); ` +
          'the rate counts the share applied by the worst listener over the time waited. The rest was still queued (see Checks), not lost.',
      );
    const podiumSat = sat.filter((s) => PODIUM.has(s.system));
    const batches = batchTable(
      podiumSat.map((s) => ({
        label: LABEL[s.system],
        batches: s.mid.batches,
      })),
    );
    if (batches) {
      p(
        "Batch sizes reached (median run; from the end of the warm-up to the last effect): orders per unit of work in the listeners process (`podium_batch_orders`: an announcements batch, a job), and per job the bench's publisher queued (`podium_publisher_job_orders`). " +
          'p50 and p90 come from the histogram buckets (1, 2, 5, 10, 20, 50, 100, 200, 500), spread linearly over the whole numbers each holds.',
      );
      p(batches);
    }
    if (podiumSat.some((s) => s.mid.redisBytesByKind)) {
      const kinds = [
        'orders',
        'markers',
        'queues',
        'podium',
        'effects',
      ] as const;
      p(
        "What the keys hold at the end of the run, bytes per order (`MEMORY USAGE` of every key, median run): the order hashes, podium's applied markers, its BullMQ queues, its other keys, the listeners' effects. `MEMORY USAGE` estimates each key with its allocator overhead, and used_memory also counts Redis's own tables and buffers, so the two differ a little.",
      );
      p(
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
        p('Batch sizes reached at this rate (stream and drain):');
        p(batches);
      }
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
    const batches = batchTable(
      crash
        .filter(({ system }) => PODIUM.has(system))
        .map(({ system, run }) => ({
          label: LABEL[system],
          batches: run.batches,
        })),
    );
    if (batches) {
      p(
        'Batch sizes reached, both listeners processes (the killed one read just before the kill) from the end of the warm-up:',
      );
      p(batches);
    }
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
    const batches = batchTable(
      slowRows
        .filter(({ system }) => PODIUM.has(system))
        .map(({ system, run }) => ({
          label: LABEL[system],
          batches: run.batches,
        })),
    );
    if (batches) {
      p(
        "Batch sizes reached (slow-invoices in its group `slow`, the other four in their mode's group):",
      );
      p(batches);
    }
    img('slow-memory.svg', 'slow listener RSS');
    img('slow-backlog.svg', 'slow listener backlog');
  }

  // 6. HTTP
  const http = httpSummary(results);
  if (http.length) {
    const bare = http.find((h) => h.system === 'bare');
    p('## 6. Purchases over HTTP');
    p(
      `The purchase as users make it: \`POST /purchases\` from ${plan.http.connections} autocannon connections (in the bench process), each sending its next purchase as soon as the last is answered, for ${plan.http.seconds} s ` +
        `after ${plan.http.warmup.toLocaleString('en-US')} warm-up purchases; a few bodies varying event and customer, one ticket each. ` +
        "The HTTP server runs as its own process beside the listeners process, with podium's Node flags: **podium's box office** (`dist/apps/box-office/src/main.js`, `PURCHASE_RATE_LIMIT=0`, the seed's events created through `POST /events` as an operator) " +
        "in front of podium's ephemeral or durable listeners, or the **bare NestJS endpoint** (`bench/baselines/bare-purchase-app.ts`: one controller that writes the order hash and publishes its id on both channels in one MULTI, nothing else) in front of podium's ephemeral listeners. " +
        `Purchases/s counts 2xx answers; latency is autocannon's response time of the 2xx answers. CPU is per purchase recorded, from the start of the load until every effect was applied. Median of ${plan.reps.http} run(s). ` +
        'Afterwards the server is stopped (it finishes what it took), the orders are read back from Redis (the 201s, and the few in flight when autocannon stopped) and the metric keys checked against them like every other run.',
    );
    p(
      table(
        [
          'system',
          'purchases/s',
          '× bare',
          'each run',
          'p50 ms',
          'p99 ms',
          'non-2xx',
          'errors',
          'HTTP server CPU ms/purchase',
          'server busy',
          'listeners CPU ms/purchase',
          'redis CPU ms/purchase',
          'autocannon CPU ms/purchase',
          'server peak RSS MB',
          'listeners peak RSS MB',
          '201s / recorded',
          'all applied',
          'lost',
          'double',
        ],
        http.map((h) => [
          HTTP_LABEL[h.system] ?? h.system,
          fmt(h.rate),
          h.system === 'bare' ? '1×' : ratio(h.rate, bare?.rate),
          h.runs.map((r) => fmt(r.purchasesPerSecond)).join(', '),
          ms(h.p50),
          ms(h.p99),
          Math.max(...h.runs.map((r) => r.non2xx)),
          Math.max(...h.runs.map((r) => r.errors)),
          fmt(h.serverCpuMs),
          `${fmt(h.serverBusy * 100)}%`,
          fmt(h.listenersCpuMs),
          fmt(h.redisCpuMs),
          fmt(h.clientCpuMs),
          fmt(h.mid.serverPeakRssMb),
          fmt(h.mid.peakRssMb),
          `${fmt(h.mid.ok)} / ${fmt(h.mid.recorded)}`,
          h.runs.every((r) => r.complete)
            ? 'yes'
            : `no (within ${plan.http.drainS} s)`,
          Math.max(...h.runs.map((r) => r.verification.lost)),
          Math.max(...h.runs.map((r) => r.verification.double)),
        ]),
      ),
    );
    const ratios = ['ephemeral', 'durable']
      .map((m) => http.find((h) => h.system === m))
      .filter((h) => h !== undefined)
      .map((h) => `${h.system} ${ratio(h.rate, bare?.rate)}`);
    if (bare && ratios.length)
      p(
        `Box office ÷ bare endpoint, purchases/s: ${ratios.join(', ')}. ` +
          '"201s / recorded": the recorded orders the 201 answers name, and all the load recorded; the difference was in flight when autocannon stopped (at most one per connection), and is applied and checked like the rest.',
      );
    const batches = batchTable(
      http.map((h) => ({
        label: HTTP_LABEL[h.system] ?? h.system,
        batches: h.mid.batches,
        durableGroups: h.mid.durableGroups,
      })),
    );
    if (batches) {
      p(
        'Batch sizes reached (median run, the measured load): in the listeners process, and per job the box office queued (its own `/metrics`, read before it stops).',
      );
      p(batches);
    }
    img('http.svg', 'purchases over HTTP');
  }

  // 7. Failover
  const failover = failoverSummary(results);
  const cuts = results.networkCut ?? [];
  if (failover.runs.length || cuts.length)
    p(
      `## 7. Failover (Redis Sentinel: ${failover.planned.length ? 'kill -9 and planned failover' : 'kill -9'} of the primary)${cuts.length ? ' and silent network cuts' : ''}`,
    );
  if (failover.runs.length) {
    const f = plan.failover;
    p(
      "A primary, 2 replicas and 3 Sentinels on loopback (the test kit's `SentinelTopology`, `down-after-milliseconds` 2,000), fresh for every run; both compiled apps on it through `REDIS_SENTINELS`/`REDIS_SENTINEL_NAME`: the box office (`dist/apps/box-office/src/main.js`) and the listeners app (`dist/apps/listeners/src/main.js`, the seed's five listeners, `DELIVERY=<mode>`), " +
        'with `REDIS_WAIT_REPLICAS` 0 or 1, `OUTBOX_GRACE_MS=1000`, `QUEUE_LOCK_MS=2000`, `QUEUE_STALLED_CHECK_MS=1000` as the HA tests run them. ' +
        `${f.clients} clients buy over HTTP, each its next purchase once the last is answered 201, every purchase with its own Idempotency-Key and repeated with it after a 503, a dropped connection or its 5 s deadline. ` +
        `**kill -9**: after ${f.beforeS} s of buying (below: the cost of WAIT) and 0.5 s more on the run's own box office, the primary is killed. ` +
        (failover.planned.length
          ? `**Planned**: the run's own box office only; after 0.5 s and ${fmt(f.plannedBeforeS)} s of buying, \`SENTINEL FAILOVER\` is sent to a Sentinel (the trigger's moment: when it is sent), and once every Sentinel names the new primary the old one is made its replica at once, its clients' connections closed (\`rejoin\`, as the Sentinel test does; Sentinel would 8 to 20 s later). `
          : '') +
        `The Sentinels promote a replica; the clients buy on for ${f.afterS} s after their first 201 since. ` +
        `Then every order answered 201 is looked for on the new primary (its order hash) and in the listeners' effects (the checks of every run), after the listeners applied what they would (unchanged for ${f.settleS} s, at most ${f.deadlineS} s). One run per mode, trigger and setting (${plan.reps.failover} run(s) each).`,
    );
    const each = (runs: typeof failover.runs) =>
      runs.map((r) => fmt(r.recoverS)).join(', ');
    p(
      `**Seconds to recover** (from the trigger until the first purchase sent after it is answered 201; after a planned failover, sent after the first purchase refused since it: the box office sells on until a Sentinel's first failover event)` +
        (failover.kills.length
          ? `, **median of the ${failover.kills.length} kills: ${fmt(failover.recoverS)} s** (each: ${each(failover.kills)})`
          : '') +
        (failover.planned.length
          ? `; **of the ${failover.planned.length} planned failovers: ${fmt(failover.plannedRecoverS)} s** (each: ${each(failover.planned)})`
          : '') +
        '.',
    );
    p(
      table(
        [
          'mode',
          'trigger',
          'WAIT',
          'purchases/s before the trigger (its own WAIT)',
          'p50 ms',
          'p99 ms',
          'recover s',
          'Sentinels agreed s',
          'longest gap without a 201 s',
          'answers sent after the trigger',
          '201s',
          '201s missing from the new primary',
          '201s not applied (worst listener)',
          'podium: announced / applied / lost (sales-summary)',
          'double',
          'all applied',
        ],
        failover.runs.map((r) => [
          r.system,
          TRIGGER_NAME[triggerOf(r)],
          r.waitReplicas,
          fmt(r.before.purchasesPerSecond),
          ms(r.before.latency.p50),
          ms(r.before.latency.p99),
          fmt(r.recoverS),
          fmt(r.promotedS),
          fmt(r.outageS),
          answersText(r.answersAfterKill),
          fmt(r.answered201),
          r.lostRecorded,
          r.lostApplied,
          accountText(r.account),
          r.verification.double,
          r.complete ? 'yes' : 'no',
        ]),
      ),
    );
    const group = (mode: string, trigger: string, w: number) =>
      failover.groups.find(
        (x) =>
          x.system === mode && x.trigger === trigger && x.waitReplicas === w,
      );
    if (failover.kills.length && failover.planned.length) {
      type Group = NonNullable<ReturnType<typeof group>>;
      const rows = [
        ...new Map(
          failover.runs.map((r) => [`${r.system} ${r.waitReplicas}`, r]),
        ).values(),
      ];
      const sideBySide = (
        mode: string,
        w: number,
        cell: (g: Group) => string,
      ) =>
        ['kill', 'planned']
          .map((t) => {
            const g = group(mode, t, w);
            return g ? cell(g) : '–';
          })
          .join(' / ');
      p(
        '**kill -9 and planned failover side by side** (per mode and setting; each cell: kill -9 / planned; recover and gap: medians over the runs, the others summed):',
      );
      p(
        table(
          [
            'mode',
            'WAIT',
            'recover s',
            'longest gap without a 201 s',
            '201s missing from the new primary (of the 201s)',
            '201s not applied (worst listener)',
            'podium: lost (sales-summary)',
            'double',
          ],
          rows.map(({ system, waitReplicas: w }) => [
            system,
            w,
            sideBySide(system, w, (g) => fmt(g.recoverS)),
            sideBySide(system, w, (g) => fmt(g.outageS)),
            sideBySide(
              system,
              w,
              (g) => `${g.lostRecorded} of ${fmt(g.answered)}`,
            ),
            sideBySide(system, w, (g) => String(g.lostApplied)),
            sideBySide(system, w, (g) =>
              g.accountLost === undefined ? '–' : fmt(g.accountLost),
            ),
            sideBySide(system, w, (g) => String(g.double)),
          ]),
        ),
      );
    }
    const lostBy = (mode: string, w: number) => {
      const g = group(mode, 'kill', w);
      return g ? `${g.lostRecorded} of ${fmt(g.answered)}` : '–';
    };
    if (failover.wait.some((w) => w.runs > 0)) {
      p(
        '**The cost of WAIT** (`REDIS_WAIT_REPLICAS=1`: a purchase is answered once a replica has it). In every kill run, before the kill, the clients buy in turn from two box offices on the same Redis and listeners, one with `REDIS_WAIT_REPLICAS=0` and one with 1 ' +
          `(after 0.5 s on each to warm up: slices of ${fmt(f.beforeS / 4)} s, WAIT 0, 1, 1, 0, so that the machine's load hits both alike); then the run's own one takes the kill. Medians over the kill runs of each mode:`,
      );
      p(
        table(
          [
            'mode',
            'runs',
            'purchases/s WAIT 0',
            'WAIT 1',
            'WAIT 1 ÷ WAIT 0 (median of the runs)',
            'p50 ms WAIT 0 → 1',
            'p99 ms WAIT 0 → 1',
            '201s lost with the killed primary, WAIT 0',
            'WAIT 1',
          ],
          failover.wait
            .filter((w) => w.runs > 0)
            .map((w) => [
              w.system,
              w.runs,
              fmt(w.rate0),
              fmt(w.rate1),
              `${fmt(w.ratio)}×`,
              `${ms(w.p50[0])} → ${ms(w.p50[1])}`,
              `${ms(w.p99[0])} → ${ms(w.p99[1])}`,
              lostBy(w.system, 0),
              lostBy(w.system, 1),
            ]),
        ),
      );
    }
    p(
      '"201s missing from the new primary": answered 201 (the box office said it was recorded) but the order hash is not on the promoted replica: lost with the old primary. ' +
        'After a kill, with WAIT 0, that happens only to an order answered in the moment between its write and its replication: on loopback the replicas are well under a millisecond behind, so a kill here loses few orders or none; between machines, or with a replica lagging, the window is the replication lag. ' +
        (failover.planned.length
          ? 'In a planned failover the old primary stays up and takes the writes of the clients still on it until they move, and its resync as a replica throws them away: from the first failover event a Sentinel publishes until the box office is on the new primary, podium writes nothing and answers 503 (`podium_purchases_refused_in_failover_total`), with either setting. '
          : '') +
        '"Not applied": of the answered orders, those the worst listener\'s effects lack (the missing ones included). ' +
        "podium's own account (`GET /listeners`: announced, applied, lost) says what the switch cost the listeners: ephemeral and queued listeners act on the announcements they hear, so those published while the listeners process was re-subscribing to the new primary are not applied (ephemeral) or not queued (queued), by design; durable listeners get their jobs from the box office, whatever they heard.",
    );
  }
  if (cuts.length) {
    const c = plan.failover.cut;
    const liveness = fmt(cuts[0].livenessTimeoutMs / 1000);
    const within = (s: number | undefined) =>
      s === undefined ? `not within ${fmt(c.deadlineS)} s` : fmt(s);
    p('### Silent network cuts');
    p(
      "One redis-server (no replica), both compiled apps on it in the mode given, with the settings above and `REDIS_WAIT_REPLICAS=0`; the cut app reaches Redis through a TCP proxy of its own (the test kit's `RedisEndpoint`), the other directly. " +
        `${c.clients} clients buy steadily, paced to ${fmt(c.rate)} purchases/s together (a stream the machine carries with room to spare, the same whatever its load, so that what piles up during a cut is alike from run to run); after ${fmt(c.beforeS)} s the bench silences the proxy: every connection open through it stops carrying bytes both ways, without FIN or RST, as a NAT, a load balancer or a cloud network does when it forgets them; new connections pass. ` +
        `podium drops a connection that answered nothing, a heartbeat PING sent, for \`REDIS_LIVENESS_TIMEOUT_MS\` (podium's default, ${liveness} s, here) and makes it again. ` +
        `The clients buy on until the cut app is back (the bench looks every 0.25 s, at most ${fmt(c.deadlineS)} s), then ${fmt(c.afterS)} s more; then the checks as above, against the orders in Redis. ` +
        '"Replaced": `podium_redis_connections_replaced_total` in each app\'s `/metrics` at the end (the cut app first); "seen after": when the bench\'s poll of the cut app\'s `/metrics` first counted one.',
    );
    const common = (r: NetworkCutRun) => [
      r.system,
      r.clients,
      fmt(r.answered201),
      fmt(r.purchasesPerSecondInCut),
      r.silenced,
    ];
    // Caught up, and when first if the listeners fell behind again meanwhile.
    const caughtUpText = (r: NetworkCutRun) =>
      r.firstCaughtUpS !== undefined && r.firstCaughtUpS !== r.caughtUpS
        ? `${within(r.caughtUpS)} (first ${fmt(r.firstCaughtUpS)}, then behind again)`
        : within(r.caughtUpS);
    const listenersCuts = cuts.filter((r) => r.cut === 'listeners');
    if (listenersCuts.length) {
      p("**The listeners' network cut**:");
      p(
        table(
          [
            'mode',
            'clients',
            '201s',
            '201s/s from the cut until back',
            'connections silenced',
            'replaced: listeners / box office',
            'replaced seen after s',
            'applying again after s',
            'every 201 applied (caught up) after s',
            'longest gap without a 201 s',
            '201s not in Redis',
            '201s not applied (worst listener)',
            'podium: announced / applied / lost (sales-summary)',
            'double',
            'all applied',
          ],
          listenersCuts.map((r) => [
            ...common(r),
            `${r.replaced.listeners ?? '?'} / ${r.replaced.boxOffice ?? '?'}`,
            within(r.replacedS),
            within(r.resumedS),
            r.mode === 'durable' ? caughtUpText(r) : '–',
            fmt(r.outageS),
            r.lostRecorded,
            r.lostApplied,
            accountText(r.account),
            r.verification.double,
            r.complete ? 'yes' : 'no',
          ]),
        ),
      );
      p(
        '"Applying again": from the cut until an order answered 201 at least 0.25 s after it (so not applied before it) is in the effects. ' +
          `"Caught up" (durable): from the cut until every order answered 201 at least ${fmt(CAUGHT_UP_LAG_MS / 1000)} s before is applied (the sales-summary and customer-invoices sets name it, and every listener's counters reach what the answered orders make them): the listeners are less than that behind the box office again, and still ${fmt(CAUGHT_UP_HOLD_S)} s later (they can catch up with the backlog and fall behind again while a connection they need is still silent: the first time is then given too). ` +
          'After the reconnect the durable listeners catch up what piled up meanwhile (about the 201s/s column × the seconds until replaced), in the jobs the box office queued then, each holding the few purchases of one tick. ' +
          'Ephemeral listeners lose what is announced while their subscriber is silent, and podium counts it (`GET /listeners`); durable ones get their jobs from the box office.',
      );
    }
    const boxOfficeCuts = cuts.filter((r) => r.cut === 'box-office');
    if (boxOfficeCuts.length) {
      p("**The box office's network cut**:");
      p(
        table(
          [
            'mode',
            'clients',
            '201s',
            '201s/s from the cut until back',
            'connections silenced',
            'replaced: box office / listeners',
            'replaced seen after s',
            '201 again after s',
            'longest gap without a 201 s',
            'slowest request ms (deadline)',
            'answers sent after the cut',
            '201s not in Redis',
            '201s not applied (worst listener)',
            'double',
          ],
          boxOfficeCuts.map((r) => [
            ...common(r),
            `${r.replaced.boxOffice ?? '?'} / ${r.replaced.listeners ?? '?'}`,
            within(r.replacedS),
            within(r.recoverS),
            fmt(r.outageS),
            `${fmt(r.slowestMs)} (${fmt(r.deadlineMs)})`,
            answersText(r.answersAfterCut),
            r.lostRecorded,
            r.lostApplied,
            r.verification.double,
          ]),
        ),
      );
      p(
        '"201 again": from the cut until the first purchase sent after it is answered 201. A request the box office has not answered by its client\'s deadline counts as "deadline" (its client gives up on it and repeats the purchase with its Idempotency-Key): the slowest request reaching the deadline means a request waited on a silent connection. ' +
          '"201s not in Redis": answered 201 but no order hash: lost.',
      );
    }
  }

  // 8. Cluster
  const cluster = clusterSummary(results);
  if (cluster.length) {
    const c = plan.cluster;
    p('## 8. Redis Cluster: one Redis, a 1-primary and a 3-primary cluster');
    p(
      `The saturation of scenario 1 (${c.orders.toLocaleString('en-US')} orders from ${c.concurrency} concurrent publishers after ${c.warmup} warm-up orders) on one plain Redis and on clusters of 1 and 3 primaries without replicas ` +
        "(the test kit's `ClusterTopology`), each with one **spare** primary that serves no slots: it holds no keys and has no subscriber, yet the cluster bus brings it every `PUBLISH`, so its CPU is what the broadcast alone costs a node. " +
        "The bench's publisher (`OrderPublisher.record`) runs on ioredis' Cluster client and the cluster's key layout (`REDIS_CLUSTER_NODES`; order ids made in their event's slot, as the box office makes them), and so does podium's listeners process. " +
        'Orders/s = orders ÷ (last effect applied − first publish). Redis CPU: utime + stime of each redis-server (`/proc/<pid>/stat`) from the first publish to the last effect, per order; commands and `PUBLISH` from `INFO commandstats`, bus-delivered `PUBLISH` from `CLUSTER INFO` (`cluster_stats_messages_publish_received`), over the same window. ' +
        `Then ${c.monitorOrders.toLocaleString('en-US')} more orders with \`MONITOR\` on every primary (after the CPU window: MONITOR costs Redis CPU): each command's keys (EVALSHA's KEYS; else its first argument) counted, for the hottest key's and the hottest slot's share of all commands with keys. ` +
        'On 2 cores every process (the publisher, the listeners, each redis-server) shares the machine, so orders/s is what the machine carries, not a shard; the CPU per order per shard is the figure that scales.',
    );
    p(
      table(
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
      ),
    );
    p('Each redis-server of the median runs:');
    p(
      table(
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
      ),
    );
    p(
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
      [
        ...allRuns(results).map(({ scenario, run }) => [
          scenario,
          SHORT[run.system] ?? run.system,
          run.rep,
          ...checkCells(run.verification),
          run.logProblems.count
            ? `${run.logProblems.count}: ${run.logProblems.first[0] ?? ''}`
            : '0',
          fmt(run.startupMs),
        ]),
        // The failover and cluster runs run the compiled apps (their logs are not read) or their own topology.
        ...[
          ...(results.failover ?? []).map((run) => ({
            scenario: 'failover',
            label: failoverLabel(run),
            run,
          })),
          ...(results.networkCut ?? []).map((run) => ({
            scenario: 'failover',
            label: `${run.system}, ${CUT_NAME[run.cut]}`,
            run,
          })),
          ...(results.cluster ?? []).map((run) => ({
            scenario: 'cluster',
            label: `${run.system} on ${run.layout}`,
            run,
          })),
        ].map(({ scenario, label, run }) => [
          scenario,
          label,
          run.rep,
          ...checkCells(run.verification),
          '–',
          '–',
        ]),
      ],
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

/** A run's checks as the checks table gives them: orders, lost, still queued, double, problems. */
function checkCells(v: Verification): (string | number)[] {
  return [
    v.listeners.reduce((m, l) => Math.max(m, l.expected), 0),
    v.lost,
    Math.max(0, ...v.listeners.map((l) => l.queued)),
    v.double,
    v.problems.join('; ') || 'none',
  ];
}
