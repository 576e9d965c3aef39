/** The targets (issue 19), met or missed, and when missed why, from the figures of one run. */
import type { BatchFigure } from '../lib/metrics.js';
import { SLOW_LISTENER } from '../lib/model.js';
import { median } from '../lib/stats.js';
import type { FailoverRun } from '../scenarios/failover.js';
import type { NetworkCutRun } from '../scenarios/network-cut.js';
import type { Results } from './results.js';
import {
  allRuns,
  BASE,
  checkedRuns,
  failoverSummary,
  httpSummary,
  latencySummaries,
  ms,
  PODIUM,
  ratio,
  saturationSummary,
  TRACED_OF,
} from './summaries.js';
import { fmt } from './svg.js';

/**
 * The targets (issue 19), each a ratio to the baselines of the same run ((a); (c) and the
 * bare endpoint where said), medians of the run.
 */
export const TARGET = {
  ephemeralSaturationVsA: 2.5,
  durableSaturationVsA: 1.3,
  durableSaturationVsC: 3,
  /** The box office's durable record rate in saturation ÷ its ephemeral one. */
  durableRecordShare: 0.6,
  durableP99Ms: 15,
  durableP99Rate: 500,
  durableP99VsA: 2,
  durableP99VsARate: 2000,
  /** Ephemeral p99 ÷ (a)'s, at every latency rate. */
  ephemeralP99VsA: 1,
  rssMb: 250,
  durableRedisBytesPerOrder: 800,
  httpEphemeralVsBare: 0.9,
  httpDurableVsBare: 0.8,
  /** Issue 24: saturation ÷ (d)'s (Redis Streams, exactly once). */
  durableSaturationVsD: 0.8,
  ephemeralSaturationVsD: 0.9,
  /** Issue 24: Redis CPU per order at saturation ÷ (d)'s. */
  ephemeralRedisCpuVsD: 1.3,
  durableRedisCpuVsD: 1.6,
  /** Issue 24: no listener's p99 over this × the slowest other listener's of its group, every podium mode and rate. */
  listenerP99VsOthers: 1.1,
  /** Issue 24: durable p99 ÷ (d)'s at each latency rate, and ÷ (a)'s at 500/s. */
  durableP99VsD: 1,
  durableP99VsA500: 2,
  /** Seconds from kill -9 of the primary until purchases are answered 201 again (test/sentinel-failover.e2e-spec.ts's bound). */
  failoverRecoverS: 15,
  /** Purchases answered 201 and missing from the new primary after a planned SENTINEL FAILOVER, WAIT 0 and 1, every mode. */
  plannedFailoverLost: 0,
  /** Seconds from a silent cut of the listeners' network until the durable listeners have applied every 201. */
  listenersCutAppliedS: 20,
  /** Seconds from a silent cut of the box office's network until purchases are answered 201 again. */
  boxOfficeCutRecoverS: 15,
  /** Issue 25: a mode traced at 100% sampling ÷ the same mode untraced, purchases/s over HTTP and saturation. */
  tracedVsUntraced: 0.8,
};
export const RSS_LIMIT_MB = TARGET.rssMb;

export interface Target {
  name: string;
  figure: string;
  met: boolean | null;
  why?: string;
}

type SatSummary = ReturnType<typeof saturationSummary>[number];

/** "mean 12 orders (p50 10, p90 19) per announcements batch, 7.1 per job": the sizes a run reached. */
export function batchText(batches: BatchFigure[] | undefined): string {
  if (!batches?.length) return 'not measured';
  const what = (b: BatchFigure) =>
    b.side === 'publisher'
      ? 'jobs queued by the publisher'
      : b.source === 'job'
        ? 'jobs run by the listeners'
        : 'announcement batches';
  return batches
    .map(
      (b) =>
        `${what(b)} (group ${b.group}): ${fmt(b.units)}, mean ${fmt(b.mean)} orders (p50 ${fmt(b.p50)}, p90 ${fmt(b.p90)})`,
    )
    .join('; ');
}

/** The durable groups whose publisher recorded no job sizes: the metric is missing, not zero. */
export function publisherJobsMissing(
  batches: BatchFigure[] | undefined,
  durableGroups: string[] | undefined,
): string[] {
  if (!batches) return [];
  return (durableGroups ?? []).filter(
    (group) =>
      batches.some((b) => b.group === group && b.side === 'listeners') &&
      !batches.some((b) => b.group === group && b.side === 'publisher'),
  );
}

export function targets(results: Results): Target[] {
  const sat = new Map(saturationSummary(results).map((s) => [s.system, s]));
  const lat = latencySummaries(results);
  const http = new Map(httpSummary(results).map((s) => [s.system, s]));
  const cores = results.meta.machine.cpus;
  const out: Target[] = [];
  const cpu = (s: SatSummary) =>
    `listeners process ${fmt(s.cpuListenersMs)} ms, redis-server ${fmt(s.cpuRedisMs)} ms, the bench's publisher ${fmt(s.cpuBenchMs)} ms`;
  const notMeasured = (name: string) =>
    out.push({ name, figure: 'not measured', met: null });

  /** Saturation: system ≥ factor × base (a baseline, or another podium mode). */
  const satTarget = (system: string, base: string, factor: number) => {
    const baseName = BASE[base] ?? `${base}'s`;
    const name =
      factor === 1 && !BASE[base]
        ? `${system} saturation ≥ ${base}'s`
        : `${system} saturation ≥ ${fmt(factor)}× ${baseName}`;
    const s = sat.get(system);
    const b = sat.get(base);
    if (!s || !b) return notMeasured(name);
    const r = s.rate / b.rate;
    const t: Target = {
      name,
      figure: `${fmt(s.rate)} vs ${fmt(b.rate)} orders/s = ${fmt(r, 2)}× ${BASE[base] ?? base}`,
      met: r >= factor,
    };
    if (!t.met) {
      const oneCore = 1000 / s.cpuListenersMs;
      const allCores =
        (1000 * cores) / (s.cpuListenersMs + s.cpuRedisMs + s.cpuBenchMs);
      t.why =
        `${fmt(factor)}× ${BASE[base] ?? base} is ${fmt(factor * b.rate)} orders/s. CPU per order, podium ${system}: ${cpu(s)}; ` +
        `its listeners process (one Node thread) allows at most ~${fmt(oneCore)} orders/s on one core, and the three processes on ${cores} cores at most ~${fmt(allCores)}. ` +
        `${BASE[base] ?? base}: ${cpu(b)}. ` +
        (PODIUM.has(system) ? `Batches: ${batchText(s.mid.batches)}.` : '') +
        (s.runs.some((r) => !r.complete)
          ? ` Not every run finished within ${results.meta.plan.saturation.deadlineS} s (longest stall ${fmt(Math.max(...s.runs.map((r) => r.longestStallS)))} s).`
          : '');
    }
    out.push(t);
  };
  satTarget('ephemeral', 'seed', TARGET.ephemeralSaturationVsA);
  satTarget('durable', 'seed', TARGET.durableSaturationVsA);
  satTarget('durable', 'bullmq', TARGET.durableSaturationVsC);
  satTarget('queued', 'durable', 1);
  satTarget('durable', 'streams', TARGET.durableSaturationVsD);
  satTarget('ephemeral', 'streams', TARGET.ephemeralSaturationVsD);

  /** Redis CPU per order at saturation within factor × (d)'s. */
  const redisTarget = (system: string, factor: number) => {
    const name = `${system}: Redis CPU per order at saturation ≤ ${fmt(factor)}× (d)'s`;
    const s = sat.get(system);
    const d = sat.get('streams');
    if (!s || !d) return notMeasured(name);
    const r = s.cpuRedisMs / d.cpuRedisMs;
    const t: Target = {
      name,
      figure: `${fmt(s.cpuRedisMs * 1000)} vs ${fmt(d.cpuRedisMs * 1000)} µs/order = ${fmt(r, 2)}× (d)`,
      met: r <= factor,
    };
    if (!t.met) {
      const top = Object.entries(s.mid.redisCommands ?? {})
        .sort((x, y) => y[1].usec - x[1].usec)
        .slice(0, 6)
        .map(([c, v]) => `${c} ${fmt(v.usec)} µs (${fmt(v.calls)} calls)`)
        .join(', ');
      // Every command Redis ran per order, a script's own commands included (EVALSHA is not one).
      const commands = (run: SatSummary) =>
        Object.entries(run.mid.redisCommands ?? {})
          .filter(([c]) => c !== 'evalsha' && c !== 'exec' && c !== 'multi')
          .reduce((sum, [, v]) => sum + v.calls, 0);
      t.why =
        `per order, the commands that cost most (INFO commandstats, wall time inside Redis; a script's commands counted again in their own rows): ${top || 'not measured'}. ` +
        `Redis ran ${fmt(commands(s))} commands per order against (d)'s ${fmt(commands(d))}, most of them inside scripts: ` +
        '(d) runs no script: XADD, one XREADGROUP and one MULTI with XACK per batch of 100; podium\'s record script writes the order, an `announced` counter per listener, the outbox and the markers, and its effects script reads what each write of a listener but its last will change, to take it back should a later one fail (see "Where Redis spends its time").';
    }
    out.push(t);
  };
  redisTarget('ephemeral', TARGET.ephemeralRedisCpuVsD);
  redisTarget('durable', TARGET.durableRedisCpuVsD);

  {
    const name = `box office's durable record rate in saturation ≥ ${fmt(TARGET.durableRecordShare * 100)}% of its ephemeral one`;
    const d = sat.get('durable');
    const e = sat.get('ephemeral');
    if (!d || !e) notMeasured(name);
    else {
      const share = d.publishRate / e.publishRate;
      const t: Target = {
        name,
        figure: `${fmt(d.publishRate)} vs ${fmt(e.publishRate)} records/s = ${fmt(share * 100)}%`,
        met: share >= TARGET.durableRecordShare,
      };
      if (!t.met) {
        const concurrency = results.meta.plan.saturation.concurrency;
        t.why =
          `${concurrency} publishers each wait for their last record, so the rate is ~${concurrency} ÷ the time of one: ` +
          `record() took p50 ${ms(d.recordP50)} / p99 ${ms(d.recordP99)} ms durable against ${ms(e.recordP50)} / ${ms(e.recordP99)} ms ephemeral ` +
          `(the durable one's script writes more: the outbox entry, the queued marker; its job is added after it answers). CPU per order: the bench's publisher ${fmt(d.cpuBenchMs)} ms durable vs ${fmt(e.cpuBenchMs)} ms, ` +
          `redis-server ${fmt(d.cpuRedisMs)} vs ${fmt(e.cpuRedisMs)} ms (both processes run while the listeners process applies the orders). ` +
          (publisherJobsMissing(d.mid.batches, d.mid.durableGroups).length
            ? `The publisher's podium_publisher_job_orders recorded no job (the metric is never observed); ${batchText(d.mid.batches?.filter((b) => b.source === 'job'))}.`
            : `Jobs: ${batchText(d.mid.batches?.filter((b) => b.source === 'job'))}.`);
      }
      out.push(t);
    }
  }

  /** Latency: p99 at a rate within `limitMs`, or within `vsA` × (a)'s p99 at that rate. */
  const latTarget = (
    system: string,
    rate: number,
    limit: { ms: number } | { vsA: number } | { vsD: number },
  ) => {
    const at = `at ${rate.toLocaleString('en-US')} orders/s`;
    const name =
      'ms' in limit
        ? `${system} p99 ≤ ${fmt(limit.ms)} ms ${at}`
        : 'vsD' in limit
          ? `${system} p99 ≤ ${limit.vsD === 1 ? '' : `${fmt(limit.vsD)}× `}(d)'s ${at}`
          : limit.vsA === 1
            ? `${system} p99 ≤ (a)'s ${at}`
            : `${system} p99 ≤ ${fmt(limit.vsA)}× (a)'s ${at}`;
    const s = lat.find((l) => l.system === system && l.rate === rate);
    const a = lat.find(
      (l) => l.system === 'seed' && l.rate === rate && l.runs > 0,
    );
    const d = lat.find(
      (l) => l.system === 'streams' && l.rate === rate && l.runs > 0,
    );
    if (!s || s.runs === 0 || ('vsA' in limit && !a) || ('vsD' in limit && !d))
      return notMeasured(name);
    const limitMs =
      'ms' in limit
        ? limit.ms
        : 'vsD' in limit
          ? limit.vsD * d!.p99
          : limit.vsA * a!.p99;
    const t: Target = {
      name,
      figure:
        `p99 ${ms(s.p99)} ms (p50 ${ms(s.p50)}, p95 ${ms(s.p95)})${a ? `; (a) p99 ${ms(a.p99)} ms, ${ratio(s.p99, a.p99)} (a)` : ''}` +
        `${'vsD' in limit && d ? `; (d) p99 ${ms(d.p99)} ms, ${ratio(s.p99, d.p99)} (d)` : ''}` +
        `${s.complete ? '' : `; only ${fmt(s.appliedShare * 100)}% applied before the drain deadline`}`,
      met: s.complete && s.p99 <= limitMs,
    };
    if (!t.met) {
      const worst = Object.entries(s.perListenerP99).sort(
        (x, y) => y[1] - x[1],
      )[0];
      const parts = [
        ...('ms' in limit ? [] : [`the limit is ${ms(limitMs)} ms`]),
        s.complete
          ? `slowest listener ${worst?.[0]} at p99 ${ms(worst?.[1])} ms`
          : `it could not keep up with ${rate} orders/s: the backlog grew during the stream`,
        `the listeners process was busy ${fmt(s.busy * 100)}% of a core; CPU per order: listeners process ${fmt(s.cpuMsPerOrder)} ms, redis-server ${fmt(s.redisCpuMsPerOrder)} ms, the bench's publisher ${fmt(s.benchCpuMsPerOrder)} ms` +
          (a
            ? ` ((a): ${fmt(a.cpuMsPerOrder)}, ${fmt(a.redisCpuMsPerOrder)} and ${fmt(a.benchCpuMsPerOrder)} ms)`
            : ''),
        `publishing (OrderPublisher.record) alone took p50 ${ms(s.recordP50)} / p99 ${ms(s.recordP99)} ms` +
          (a ? ` ((a): ${ms(a.recordP50)} / ${ms(a.recordP99)} ms)` : ''),
        ...(Number.isFinite(s.jobWaitP50)
          ? [
              `jobs waited p50 ${ms(s.jobWaitP50)} / p99 ${ms(s.jobWaitP99)} ms in BullMQ before a worker took them`,
            ]
          : []),
        `batches: ${batchText(s.batches)}`,
      ];
      t.why = `${parts.join('; ')}.`;
    }
    out.push(t);
  };
  latTarget('durable', TARGET.durableP99Rate, { ms: TARGET.durableP99Ms });
  latTarget('durable', TARGET.durableP99VsARate, {
    vsA: TARGET.durableP99VsA,
  });
  for (const rate of results.meta.plan.latency.rates)
    latTarget('ephemeral', rate, { vsA: TARGET.ephemeralP99VsA });
  for (const rate of results.meta.plan.latency.rates)
    latTarget('durable', rate, { vsD: TARGET.durableP99VsD });
  latTarget('durable', 500, { vsA: TARGET.durableP99VsA500 });

  {
    // One group per mode in the latency runs: a listener that hears an order on its second
    // PUBLISH (the lottery, the alerter) against the others of that group.
    const name = `every listener's p99 ≤ ${fmt(TARGET.listenerP99VsOthers)}× the slowest other listener's of its group (podium, every mode and rate)`;
    const rows = lat.filter((l) => PODIUM.has(l.system) && l.runs > 0);
    if (rows.length === 0) notMeasured(name);
    else {
      const over: string[] = [];
      let worst = { ratio: 0, text: '' };
      for (const l of rows) {
        const p99s = Object.entries(l.perListenerP99);
        for (const [listener, p99] of p99s) {
          const others = Math.max(
            ...p99s.filter(([n]) => n !== listener).map(([, v]) => v),
          );
          const r = p99 / others;
          const text = `${l.system} at ${l.rate.toLocaleString('en-US')}/s: ${listener} ${ms(p99)} ms against ${ms(others)} (${fmt(r, 3)}×)`;
          if (r > worst.ratio) worst = { ratio: r, text };
          if (r > TARGET.listenerP99VsOthers) over.push(text);
        }
      }
      const t: Target = {
        name,
        figure: `the largest: ${worst.text}`,
        met: over.length === 0,
      };
      if (!t.met)
        t.why =
          `over in ${over.join('; ')}. The lottery hears a third of the orders (Opening Ceremony's): its p99 rests on a third of the samples, ` +
          "so one stall weighs three times as much in it; its effects are applied in the same script as the others', one per batch";
      out.push(t);
    }
  }

  {
    const name = `listeners RSS ≤ ${RSS_LIMIT_MB} MB in every scenario (podium processes, untraced)`;
    const runs = allRuns(results);
    // Tracing is an operator's choice with a cost of its own: its target gives its RSS.
    const podiumRuns = runs.filter(
      ({ run }) => PODIUM.has(run.system) && !(run.system in TRACED_OF),
    );
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
    const name = `Redis bytes per order, durable, ≤ ${fmt(TARGET.durableRedisBytesPerOrder)}`;
    const d = sat.get('durable');
    if (!d) notMeasured(name);
    else {
      const t: Target = {
        name,
        figure:
          `${fmt(d.bytesPerOrder)} B/order left in used_memory after the saturation run` +
          ['seed', 'ephemeral', 'queued']
            .filter((x) => sat.has(x))
            .map((x) => `; ${BASE[x] ?? x} ${fmt(sat.get(x)!.bytesPerOrder)}`)
            .join(''),
        met: d.bytesPerOrder <= TARGET.durableRedisBytesPerOrder,
      };
      if (!t.met) {
        const kinds = (x: SatSummary | undefined) =>
          x?.mid.redisBytesByKind
            ? Object.entries(x.mid.redisBytesByKind)
                .map(([k, v]) => `${k} ${fmt(v)}`)
                .join(', ')
            : 'not measured';
        t.why =
          `what the keys hold per order (MEMORY USAGE), durable: ${kinds(d)}; ephemeral: ${kinds(sat.get('ephemeral'))} ` +
          `(orders = the order hashes, markers = podium:applied:<id>, queues = BullMQ's keys, podium = its other keys, effects = the listeners' keys). ` +
          `Jobs: ${batchText(d.mid.batches?.filter((b) => b.source === 'job'))}.`;
      }
      out.push(t);
    }
  }

  const httpTarget = (system: string, factor: number) => {
    const name = `box office purchases/s over HTTP, ${system} listeners, ≥ ${fmt(factor)}× the bare NestJS endpoint's`;
    const s = http.get(system);
    const b = http.get('bare');
    if (!s || !b) return notMeasured(name);
    const r = s.rate / b.rate;
    const t: Target = {
      name,
      figure: `${fmt(s.rate)} vs ${fmt(b.rate)} purchases/s = ${fmt(r, 2)}× bare (p50 ${ms(s.p50)} vs ${ms(b.p50)} ms)`,
      met: r >= factor,
    };
    if (!t.met) {
      const connections = results.meta.plan.http.connections;
      const sum = (x: typeof s) =>
        x.serverCpuMs + x.listenersCpuMs + x.redisCpuMs + x.clientCpuMs;
      t.why =
        `${fmt(factor)}× bare is ${fmt(factor * b.rate)} purchases/s. CPU per purchase: HTTP server ${fmt(s.serverCpuMs)} ms (bare ${fmt(b.serverCpuMs)}), ` +
        `listeners ${fmt(s.listenersCpuMs)} (${fmt(b.listenersCpuMs)}), redis-server ${fmt(s.redisCpuMs)} (${fmt(b.redisCpuMs)}), autocannon in the bench ${fmt(s.clientCpuMs)} (${fmt(b.clientCpuMs)}) ms. ` +
        `The box office (one Node thread) allows at most ~${fmt(1000 / s.serverCpuMs)} purchases/s on one core and was busy ${fmt(s.serverBusy * 100)}% of it (bare ${fmt(b.serverBusy * 100)}%); ` +
        `all four processes on ${cores} cores at most ~${fmt((1000 * cores) / sum(s))} (bare ~${fmt((1000 * cores) / sum(b))}). ` +
        `${connections} connections at p50 ${ms(s.p50)} ms answer at most ~${fmt((connections * 1000) / s.p50)} purchases/s. ` +
        (system === 'durable'
          ? publisherJobsMissing(s.mid.batches, s.mid.durableGroups).length
            ? `The box office's podium_publisher_job_orders recorded no job (the metric is never observed); ${batchText(s.mid.batches?.filter((x) => x.source === 'job'))}.`
            : `Jobs: ${batchText(s.mid.batches?.filter((x) => x.source === 'job'))}.`
          : '');
    }
    out.push(t);
  };
  httpTarget('ephemeral', TARGET.httpEphemeralVsBare);
  httpTarget('durable', TARGET.httpDurableVsBare);

  // Issue 25: what tracing every purchase costs, each mode against itself untraced, in one run.
  for (const [traced, plain] of Object.entries(TRACED_OF)) {
    const factor = TARGET.tracedVsUntraced;
    const name = `${plain}, traced at 100% sampling, ≥ ${fmt(factor)}× untraced: purchases/s over HTTP and saturation`;
    const [h, hb, s, sb] = [
      http.get(traced),
      http.get(plain),
      sat.get(traced),
      sat.get(plain),
    ];
    const figures: string[] = [];
    const ratios: number[] = [];
    if (h && hb) {
      ratios.push(h.rate / hb.rate);
      figures.push(
        `HTTP ${fmt(h.rate)} vs ${fmt(hb.rate)} purchases/s = ${fmt(h.rate / hb.rate, 2)}×`,
      );
    }
    if (s && sb) {
      ratios.push(s.rate / sb.rate);
      figures.push(
        `saturation ${fmt(s.rate)} vs ${fmt(sb.rate)} orders/s = ${fmt(s.rate / sb.rate, 2)}×`,
      );
    }
    if (ratios.length === 0) {
      notMeasured(name);
      continue;
    }
    const t: Target = {
      name,
      figure: figures.join('; '),
      met: ratios.every((r) => r >= factor),
    };
    if (!t.met)
      t.why = [
        h && hb
          ? `CPU per purchase over HTTP, traced vs not: box office ${fmt(h.serverCpuMs)} vs ${fmt(hb.serverCpuMs)} ms, listeners ${fmt(h.listenersCpuMs)} vs ${fmt(hb.listenersCpuMs)} ms, redis-server ${fmt(h.redisCpuMs)} vs ${fmt(hb.redisCpuMs)} ms`
          : '',
        s && sb
          ? `per order at saturation: listeners ${fmt(s.cpuListenersMs)} vs ${fmt(sb.cpuListenersMs)} ms, redis-server ${fmt(s.cpuRedisMs)} vs ${fmt(sb.cpuRedisMs)} ms, the bench's publisher ${fmt(s.cpuBenchMs)} vs ${fmt(sb.cpuBenchMs)} ms; listeners peak RSS ${fmt(s.mid.peakRssMb)} vs ${fmt(sb.mid.peakRssMb)} MB (median runs)`
          : '',
      ]
        .filter(Boolean)
        .join('; ');
    out.push(t);
  }

  {
    const runs = checkedRuns(results).filter(({ run }) =>
      PODIUM.has(run.system),
    );
    const doubles = runs.filter(({ run }) => run.verification.double > 0);
    const c = results.crash.filter((r) => r.system === 'bullmq');
    out.push({
      name: '0 double counts in every run (podium listeners, HTTP, failover and cluster scenarios included)',
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
            ({ scenario, run, label }) =>
              `${scenario} ${label ?? run.system} run ${run.rep}: ${run.verification.double}`,
          )
          .join('; '),
      }),
    });
  }
  {
    const runs = checkedRuns(results).filter(
      ({ run }) =>
        run.system === 'durable' ||
        run.system === 'durable-traced' ||
        run.system === 'mixed',
    );
    // Failover: an order answered 201 that the new primary never had is lost with the old one
    // (REDIS_WAIT_REPLICAS=0's risk, its own target below), not by the durable listeners.
    const lost = ({ run, lostWithPrimary = 0 }: (typeof runs)[number]) =>
      run.system === 'mixed'
        ? (run.verification.listeners.find((l) => l.listener === SLOW_LISTENER)
            ?.lost ?? 0)
        : Math.max(0, run.verification.lost - lostWithPrimary);
    const bad = runs.filter((r) => lost(r) > 0);
    const crashed = runs.filter(({ scenario }) => scenario === 'crash').length;
    const a = results.crash.filter((r) => r.system === 'seed');
    out.push({
      name: '0 lost in durable, crash included (durable runs, HTTP, failover and cluster included, and the durable listener of the mixed run)',
      figure: runs.length
        ? `${runs.reduce((s, r) => s + lost(r), 0)} lost over ${runs.length} runs (${crashed} crash)` +
          (a.length
            ? `; (a) lost ${a.map((r) => fmt(r.verification.lost)).join(', ')} in its crash`
            : '')
        : 'not measured',
      met: runs.length ? bad.length === 0 : null,
      ...(bad.length > 0 && {
        why: bad
          .map(
            (r) =>
              `${r.scenario} ${r.label ?? r.run.system} run ${r.run.rep}: ${lost(r)}`,
          )
          .join('; '),
      }),
    });
  }
  const failover = failoverSummary(results);
  if (failover.kills.length) {
    const slowest = Math.max(...failover.kills.map((r) => r.recoverS));
    out.push({
      name: `failover: purchases answered 201 again within ${TARGET.failoverRecoverS} s of kill -9 of the primary (as the Sentinel test asks)`,
      figure: `median ${fmt(failover.recoverS)} s over ${failover.kills.length} kills (slowest ${fmt(slowest)} s)`,
      met: slowest <= TARGET.failoverRecoverS,
      ...(slowest > TARGET.failoverRecoverS && {
        why: failover.kills
          .filter((r) => r.recoverS > TARGET.failoverRecoverS)
          .map(
            (r) =>
              `${r.system} WAIT ${r.waitReplicas}: ${fmt(r.recoverS)} s (Sentinels agreed after ${fmt(r.promotedS)} s)`,
          )
          .join('; '),
      }),
    });
    const waited = failover.kills.filter((r) => r.waitReplicas > 0);
    if (waited.length) {
      const lostSum = waited.reduce((n, r) => n + r.lostRecorded, 0);
      out.push({
        name: 'failover with REDIS_WAIT_REPLICAS=1: 0 orders answered 201 missing from the new primary',
        figure: `${lostSum} of ${fmt(waited.reduce((n, r) => n + r.answered201, 0))} over ${waited.length} kills`,
        met: lostSum === 0,
        ...(lostSum > 0 && {
          why: waited
            .filter((r) => r.lostRecorded > 0)
            .map((r) => `${r.system}: ${r.lostRecorded}`)
            .join('; '),
        }),
      });
    }
  }
  plannedFailoverTarget(out, failover.planned);
  networkCutTargets(out, results.networkCut ?? []);
  return out;
}

/** Planned SENTINEL FAILOVER: no purchase answered 201 missing from the new primary, either WAIT setting, every mode. */
function plannedFailoverTarget(out: Target[], runs: FailoverRun[]): void {
  if (!runs.length) return;
  const lost = (list: FailoverRun[]) =>
    `${list.reduce((n, r) => n + r.lostRecorded, 0)} of ${fmt(list.reduce((n, r) => n + r.answered201, 0))}`;
  const bad = runs.filter((r) => r.lostRecorded > TARGET.plannedFailoverLost);
  out.push({
    name: 'planned failover (SENTINEL FAILOVER): 0 purchases answered 201 missing from the new primary, REDIS_WAIT_REPLICAS 0 and 1, every mode',
    figure:
      `WAIT 0: ${lost(runs.filter((r) => r.waitReplicas === 0))}; WAIT 1: ${lost(runs.filter((r) => r.waitReplicas > 0))}` +
      ` over ${runs.length} runs (${[...new Set(runs.map((r) => r.system))].join(', ')}); recover median ${fmt(median(runs.map((r) => r.recoverS)))} s`,
    met: bad.length === 0,
    ...(bad.length > 0 && {
      why: bad
        .map(
          (r) =>
            `${r.system} WAIT ${r.waitReplicas}: ${r.lostRecorded} of ${fmt(r.answered201)} (answers after the trigger: ${Object.entries(
              r.answersAfterKill,
            )
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')})`,
        )
        .join('; '),
    }),
  });
}

/**
 * The silent network cuts: the durable listeners apply every 201 within
 * listenersCutAppliedS of their cut, nothing doubled; after the box office's cut purchases
 * are answered 201 again within boxOfficeCutRecoverS, no request reaches its client's
 * deadline, no 201 is lost.
 */
function networkCutTargets(out: Target[], runs: NetworkCutRun[]): void {
  const durable = runs.filter(
    (r) => r.cut === 'listeners' && r.mode === 'durable',
  );
  if (durable.length) {
    const late = (r: NetworkCutRun) =>
      r.caughtUpS === undefined || r.caughtUpS > TARGET.listenersCutAppliedS;
    const bad = durable.filter(
      (r) => late(r) || r.lostApplied > 0 || r.verification.double > 0,
    );
    out.push({
      name: `after a silent cut of the listeners' network: durable listeners apply every 201 within ${TARGET.listenersCutAppliedS} s of the cut, nothing doubled`,
      figure: durable
        .map(
          (r) =>
            `caught up ${r.caughtUpS === undefined ? 'never' : `${fmt(r.caughtUpS)} s`} after the cut ` +
            (r.firstCaughtUpS !== undefined && r.firstCaughtUpS !== r.caughtUpS
              ? `(first ${fmt(r.firstCaughtUpS)} s, then behind again) `
              : '') +
            `(connections replaced ${r.replaced.listeners ?? '?'}, ${fmt(r.purchasesPerSecondInCut)} purchases/s meanwhile); ${r.lostApplied} of ${fmt(r.answered201)} not applied, ${r.verification.double} doubled`,
        )
        .join('; '),
      met: bad.length === 0,
      ...(bad.length > 0 && {
        why: bad
          .map((r) =>
            late(r)
              ? `not caught up within ${TARGET.listenersCutAppliedS} s${r.firstCaughtUpS === undefined ? '' : ` (first caught up ${fmt(r.firstCaughtUpS)} s after the cut, then behind again: a connection the worker needs still silent)`} (a connection replaced ${r.replacedS === undefined ? 'never, as far as the bench saw' : `${fmt(r.replacedS)} s after the cut`}; applying again ${r.resumedS === undefined ? 'never' : `after ${fmt(r.resumedS)} s`})`
              : `${r.lostApplied} not applied, ${r.verification.double} doubled`,
          )
          .join('; '),
      }),
    });
  }
  const boxOffice = runs.filter((r) => r.cut === 'box-office');
  if (boxOffice.length) {
    const problems = (r: NetworkCutRun) => [
      ...(r.recoverS === undefined || r.recoverS > TARGET.boxOfficeCutRecoverS
        ? [
            `no 201 within ${TARGET.boxOfficeCutRecoverS} s (${r.recoverS === undefined ? 'none' : `${fmt(r.recoverS)} s`})`,
          ]
        : []),
      ...((r.answersAfterCut.deadline ?? 0) > 0 || r.slowestMs >= r.deadlineMs
        ? [
            `${r.answersAfterCut.deadline ?? 0} requests reached their ${fmt(r.deadlineMs)} ms deadline (slowest ${fmt(r.slowestMs)} ms; a connection replaced ${r.replacedS === undefined ? 'never, as far as the bench saw' : `${fmt(r.replacedS)} s after the cut`})`,
          ]
        : []),
      ...(r.lostRecorded > 0 ? [`${r.lostRecorded} 201s not in Redis`] : []),
    ];
    const bad = boxOffice.filter((r) => problems(r).length > 0);
    out.push({
      name: `after a silent cut of the box office's network: purchases answered 201 again within ${TARGET.boxOfficeCutRecoverS} s, no request beyond its client's deadline, no 201 lost`,
      figure: boxOffice
        .map(
          (r) =>
            `${r.system}: 201 again ${r.recoverS === undefined ? 'never' : `${fmt(r.recoverS)} s`} after the cut, slowest request ${fmt(r.slowestMs)} ms (deadline ${fmt(r.deadlineMs)}), ${r.lostRecorded} of ${fmt(r.answered201)} 201s lost`,
        )
        .join('; '),
      met: bad.length === 0,
      ...(bad.length > 0 && {
        why: bad
          .map((r) => `${r.system}: ${problems(r).join(', ')}`)
          .join('; '),
      }),
    });
  }
}
