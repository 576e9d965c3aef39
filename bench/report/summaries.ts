/** What the report quotes of a run: per system, the medians and the median runs of each scenario. */
import { ALL_SYSTEMS, BARE, MIXED, TRACED_SYSTEMS } from '../lib/model.js';
import { median, medianRun } from '../lib/stats.js';
import type { BatchFigure } from '../lib/metrics.js';
import type { ClusterRun } from '../scenarios/cluster.js';
import type { RunCommon } from '../scenarios/common.js';
import type { FailoverRun, FailoverTrigger } from '../scenarios/failover.js';
import type { HttpRun } from '../scenarios/http.js';
import type { LatencyPhase } from '../scenarios/latency.js';
import type { Results } from './results.js';
import { fmt } from './svg.js';

export const LABEL: Record<string, string> = Object.fromEntries(
  [...ALL_SYSTEMS, MIXED, BARE, ...TRACED_SYSTEMS].map((s) => [s.id, s.label]),
);
/** The HTTP scenario's systems: which server answers, and which listeners apply. */
export const HTTP_LABEL: Record<string, string> = {
  bare: 'bare NestJS endpoint, podium ephemeral listeners',
  ephemeral: 'podium box office, ephemeral listeners',
  durable: 'podium box office, durable listeners',
  'ephemeral-traced': 'podium box office, ephemeral listeners, traced',
  'durable-traced': 'podium box office, durable listeners, traced',
};
export const SHORT: Record<string, string> = {
  seed: '(a) seed',
  nest: '(b) Nest',
  bullmq: '(c) BullMQ',
  streams: '(d) Streams',
  ephemeral: 'ephemeral',
  queued: 'queued',
  durable: 'durable',
  mixed: 'mixed',
  bare: 'bare endpoint',
  'ephemeral-traced': 'ephemeral, traced',
  'durable-traced': 'durable, traced',
};
/** Runs whose listeners process is podium's (the bare endpoint's orders are applied by podium ephemeral). */
export const PODIUM = new Set([
  'ephemeral',
  'queued',
  'durable',
  'mixed',
  'bare',
  'ephemeral-traced',
  'durable-traced',
]);
/** Each traced variant, and the same mode untraced: the cost of tracing. */
export const TRACED_OF: Record<string, string> = {
  'ephemeral-traced': 'ephemeral',
  'durable-traced': 'durable',
};
export const BASE: Record<string, string> = {
  seed: '(a)',
  bullmq: '(c)',
  streams: '(d)',
};

export const ms = (v: number | undefined) =>
  v === undefined || !Number.isFinite(v) ? '–' : `${fmt(v)}`;
export const ratio = (v: number | undefined, base: number | undefined) =>
  v === undefined ||
  base === undefined ||
  !Number.isFinite(v) ||
  !Number.isFinite(base) ||
  base === 0
    ? '–'
    : `${fmt(v / base, 2)}×`;
export function bySystem<T extends { system: string }>(
  runs: T[],
): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const run of runs)
    map.set(run.system, [...(map.get(run.system) ?? []), run]);
  return map;
}

export interface LatencySummary {
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
  /** podium: the batch sizes of the median run at this rate. */
  batches?: BatchFigure[];
  durableGroups?: string[];
  /** Share of one core the listeners process used during the stream and drain. */
  busy: number;
}

export function latencySummaries(results: Results): LatencySummary[] {
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
        batches: medianRun(phases, (p) => p.all.p99)?.batches,
        durableGroups: runs[0]?.durableGroups,
      });
    }
  }
  return out;
}

export function allRuns(
  results: Results,
): { scenario: string; run: RunCommon }[] {
  return [
    ...results.saturation.map((run) => ({ scenario: 'saturation', run })),
    ...results.latency.map((run) => ({ scenario: 'latency', run })),
    ...results.crash.map((run) => ({ scenario: 'crash', run })),
    ...results.slow.map((run) => ({ scenario: 'slow listener', run })),
    ...results.mixed.map((run) => ({ scenario: 'mixed', run })),
    ...(results.http ?? []).map((run) => ({ scenario: 'http', run })),
  ];
}

export function saturationSummary(results: Results) {
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
      /** How fast the bench's publisher recorded (OrderPublisher.record, 16 at a time). */
      publishRate: median(runs.map((r) => r.publishRate)),
      recordP50: median(runs.map((r) => r.record?.p50 ?? NaN)),
      recordP99: median(runs.map((r) => r.record?.p99 ?? NaN)),
      bytesPerOrder: median(runs.map((r) => r.redisBytesPerOrder)),
    };
  });
}

/** Per milliseconds of CPU per purchase. */
const perPurchase = (seconds: number, run: HttpRun) =>
  (seconds * 1000) / run.recorded;

export function httpSummary(results: Results) {
  return [...bySystem(results.http ?? [])].map(([system, runs]) => {
    const mid = medianRun(runs, (r) => r.purchasesPerSecond)!;
    return {
      system,
      runs,
      mid,
      rate: median(runs.map((r) => r.purchasesPerSecond)),
      p50: median(runs.map((r) => r.latency.p50)),
      p99: median(runs.map((r) => r.latency.p99)),
      serverCpuMs: median(runs.map((r) => perPurchase(r.cpu.server, r))),
      listenersCpuMs: median(runs.map((r) => perPurchase(r.cpu.listeners, r))),
      redisCpuMs: median(runs.map((r) => perPurchase(r.cpu.redis, r))),
      clientCpuMs: median(runs.map((r) => perPurchase(r.cpu.bench, r))),
      /** Share of one core the HTTP server used during the load and drain. */
      serverBusy: median(runs.map((r) => r.cpu.server / r.cpu.wall)),
    };
  });
}

/** The runs the checks cover: every scenario's, the failover and cluster runs included (their own shapes, the same verification). */
export function checkedRuns(results: Results): {
  scenario: string;
  run: Pick<RunCommon, 'system' | 'rep' | 'verification'>;
  /** Failover: orders answered 201 that the new primary does not have (not the listeners' loss). */
  lostWithPrimary?: number;
  label?: string;
}[] {
  return [
    ...allRuns(results),
    ...(results.failover ?? []).map((run) => ({
      scenario: 'failover',
      run,
      lostWithPrimary: run.lostRecorded,
      label: failoverLabel(run),
    })),
    ...(results.networkCut ?? []).map((run) => ({
      scenario: 'failover',
      run,
      label: `${run.system}, ${CUT_NAME[run.cut]}`,
    })),
    ...(results.cluster ?? []).map((run) => ({
      scenario: 'cluster',
      run,
      label: `${run.system} on ${run.layout}`,
    })),
  ];
}

/** A failover run's trigger: runs made before planned failovers were measured are kills. */
export const triggerOf = (run: FailoverRun): FailoverTrigger =>
  run.trigger ?? 'kill';

export const TRIGGER_NAME: Record<FailoverTrigger, string> = {
  kill: 'kill -9',
  planned: 'planned',
};
export const CUT_NAME: Record<string, string> = {
  listeners: "listeners' cut",
  'box-office': "box office's cut",
};

/** A failover run as the checks name it: mode, trigger, REDIS_WAIT_REPLICAS. */
export const failoverLabel = (run: FailoverRun) =>
  `${run.system}, ${TRIGGER_NAME[triggerOf(run)]}, WAIT ${run.waitReplicas}`;

/** The failover runs by mode, trigger and REDIS_WAIT_REPLICAS, medians over their runs. */
export function failoverSummary(results: Results) {
  const runs = results.failover ?? [];
  const groups = new Map<string, FailoverRun[]>();
  for (const run of runs) {
    const key = `${run.system} ${triggerOf(run)} ${run.waitReplicas}`;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  const kills = runs.filter((r) => triggerOf(r) === 'kill');
  const planned = runs.filter((r) => triggerOf(r) === 'planned');
  const modes = [...new Set(runs.map((r) => r.system))];
  return {
    runs,
    kills,
    planned,
    /** The paired cost of WAIT per mode: every kill run of the mode (both settings) measured both. */
    wait: modes.map((system) => {
      const of = kills.flatMap((r) =>
        r.system === system && r.paired ? [{ ...r, paired: r.paired }] : [],
      );
      return {
        system,
        runs: of.length,
        rate0: median(of.map((r) => r.paired.wait0.purchasesPerSecond)),
        rate1: median(of.map((r) => r.paired.wait1.purchasesPerSecond)),
        ratio: median(
          of.map(
            (r) =>
              r.paired.wait1.purchasesPerSecond /
              r.paired.wait0.purchasesPerSecond,
          ),
        ),
        p50: [
          median(of.map((r) => r.paired.wait0.latency.p50)),
          median(of.map((r) => r.paired.wait1.latency.p50)),
        ],
        p99: [
          median(of.map((r) => r.paired.wait0.latency.p99)),
          median(of.map((r) => r.paired.wait1.latency.p99)),
        ],
      };
    }),
    /** Seconds from the kill to the first 201 of a purchase sent after it, median of every kill. */
    recoverS: median(kills.map((r) => r.recoverS)),
    /** The same from SENTINEL FAILOVER, median of every planned failover. */
    plannedRecoverS: median(planned.map((r) => r.recoverS)),
    groups: [...groups.values()].map((g) => ({
      system: g[0].system,
      trigger: triggerOf(g[0]),
      waitReplicas: g[0].waitReplicas,
      runs: g,
      rate: median(g.map((r) => r.before.purchasesPerSecond)),
      p50: median(g.map((r) => r.before.latency.p50)),
      p99: median(g.map((r) => r.before.latency.p99)),
      recoverS: median(g.map((r) => r.recoverS)),
      outageS: median(g.map((r) => r.outageS)),
      lostRecorded: g.reduce((n, r) => n + r.lostRecorded, 0),
      lostApplied: g.reduce((n, r) => n + r.lostApplied, 0),
      /** podium's own count of what sales-summary lost, summed (undefined where no run has it). */
      accountLost: g.some((r) => r.account)
        ? g.reduce((n, r) => n + (r.account?.lost ?? 0), 0)
        : undefined,
      double: g.reduce((n, r) => n + r.verification.double, 0),
      answered: g.reduce((n, r) => n + r.answered201, 0),
    })),
  };
}

/** The cluster runs by layout and mode: the median run by orders/s. */
export function clusterSummary(results: Results) {
  const groups = new Map<string, ClusterRun[]>();
  for (const run of results.cluster ?? []) {
    const key = `${run.layout} ${run.system}`;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  return [...groups.values()].map((g) => ({
    layout: g[0].layout,
    system: g[0].system,
    runs: g,
    mid: medianRun(g, (r) => r.ordersPerSecond)!,
  }));
}
