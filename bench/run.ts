/**
 * `npm run bench [-- --quick]`: podium's three delivery modes and four baselines, side by
 * side, on a private redis-server; then podium under Sentinel failovers (kill -9 and planned),
 * silent network cuts, and on Redis Cluster, on the test kit's topologies. See bench/README.md.
 *
 * Options: --quick (a short run, about 7 minutes), --only=saturation,latency,crash,slow,mixed,http,failover,cluster,
 * --systems=seed,nest,bullmq,streams,ephemeral,queued,durable,mixed,bare,ephemeral-traced,durable-traced, --reps=N, --out=DIR, --keep-logs,
 * --estimate (print the planned runs and the time they should take, run nothing),
 * --from=results.json (only write the report again, from a run's figures).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Order } from '@podium/orders';
import {
  ALL_SYSTEMS,
  BARE,
  BULLMQ,
  DURABLE,
  EPHEMERAL,
  MIXED,
  QUEUED,
  SEED,
  STREAMS,
  TRACED_SYSTEMS,
  type SystemSpec,
} from './lib/model.js';
import { makeOrders } from './lib/orders.js';
import { FULL, QUICK, type Plan } from './lib/plan.js';
import { clock, Progress } from './lib/progress.js';
import { BenchRedis } from './lib/server.js';
import { OtlpSink } from './lib/tracing.js';
import { writeReport } from './report/report.js';
import type { Results } from './report/results.js';
import type { Ctx } from './scenarios/common.js';
import { crashRun } from './scenarios/crash.js';
import { CLUSTER_LAYOUTS, clusterRun } from './scenarios/cluster.js';
import { failoverRun, type FailoverTrigger } from './scenarios/failover.js';
import { httpRun } from './scenarios/http.js';
import { latencyRun } from './scenarios/latency.js';
import { networkCutRun, type CutSide } from './scenarios/network-cut.js';
import { saturationRun } from './scenarios/saturation.js';
import { slowRun } from './scenarios/slow.js';

const SCENARIOS = [
  'saturation',
  'latency',
  'crash',
  'slow',
  'mixed',
  'http',
  'failover',
  'cluster',
] as const;
type Scenario = (typeof SCENARIOS)[number];

interface Step {
  scenario: Scenario;
  system: SystemSpec;
  rep: number;
  /** Expected seconds, for the progress bar. */
  weight: number;
  /** What the run does beyond its system, for --estimate (the failover scenario's trigger or cut). */
  detail?: string;
  run: (ctx: Ctx) => Promise<unknown>;
}

/**
 * What a run of the failover scenario does: moves the primary (kill -9, or a planned
 * SENTINEL FAILOVER) with both apps on one REDIS_WAIT_REPLICAS, or cuts one app's network
 * to Redis silently.
 */
type FailoverCase =
  { trigger: FailoverTrigger; waitReplicas: number } | { cut: CutSide };

const TRIGGER_LABEL: Record<FailoverTrigger, string> = {
  kill: 'kill -9 of the primary',
  planned: 'planned SENTINEL FAILOVER',
};
const CUT_LABEL: Record<CutSide, string> = {
  listeners: "the listeners' network to Redis cut silently",
  'box-office': "the box office's network to Redis cut silently",
};

function failoverDetail(run: FailoverCase): string {
  return 'cut' in run
    ? `${run.cut} cut`
    : `${run.trigger}, WAIT ${run.waitReplicas}`;
}

function option(args: string[], name: string): string | undefined {
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

function planFrom(args: string[]): Plan {
  const base = args.includes('--quick') ? QUICK : FULL;
  const reps = option(args, 'reps');
  if (!reps) return base;
  const n = Number(reps);
  if (!Number.isInteger(n) || n < 1)
    throw new Error('--reps must be a positive integer');
  return {
    ...base,
    reps: {
      saturation: n,
      latency: n,
      crash: n,
      slow: n,
      http: n,
      failover: n,
      cluster: n,
    },
  };
}

/** Rough orders/s each system applies at saturation on 2 cores (the last full run's medians), for the estimate. */
const SATURATION_RATE: Record<string, number> = {
  seed: 3200,
  nest: 2650,
  bullmq: 1280,
  streams: 8900,
  ephemeral: 5800,
  queued: 2900,
  durable: 2400,
  'ephemeral-traced': 4000,
  'durable-traced': 1800,
};
/** Systems whose listeners run BullMQ jobs: slower to drain after a stream they could not keep up with. */
const JOB_QUEUES = new Set(['bullmq', 'queued', 'durable']);

/** Rough seconds of a failover scenario's run (see weight). */
function failoverWeight(
  plan: Plan,
  system: SystemSpec,
  run: FailoverCase,
): number {
  const f = plan.failover;
  // What ephemeral and queued listeners missed is waited for until unchanged for settleS.
  const drain = system.id === 'durable' ? 0.5 : f.settleS;
  if ('cut' in run) {
    // Measured: Redis and its proxy, the listeners and the box office (~3.3 s), the buying
    // before the cut, the cut until the app is back (the liveness timeout, 8 s, and ~0.7 s;
    // durable listeners until caught up for good, ~18.5 s: their worker's blocking read is
    // replaced last), the buying after,
    // the drain (only the ephemeral listeners' cut loses orders to wait for) and the checks.
    const back =
      run.cut === 'listeners' && system.id === 'durable' ? 18.5 : 8.7;
    const drained = run.cut === 'listeners' ? drain : 0.2;
    return 3.3 + f.cut.beforeS + back + f.cut.afterS + drained + 0.4;
  }
  if (run.trigger === 'planned')
    // Measured: the topology (~1.2 s), the listeners and one box office (~3 s), 0.5 s of
    // warm-up, the buying, the failover and the old primary's rejoining (~1.5 s), the drain, the checks.
    return 1.2 + 3 + 0.5 + f.plannedBeforeS + 1.5 + f.afterS + drain + 0.5;
  // Measured: the topology (~1.2 s), the listeners and two box offices (~2.8 s), 1 s of warm-up
  // and the slices' stops, the buying, the failover (~4 s), the drain and the checks.
  return 1.2 + 2.8 + 1.5 + f.beforeS + 4 + f.afterS + drain + 0.5;
}

/** Rough seconds per run on a 2-core machine, for the progress bar's estimate only (checked against the last full run). */
function weight(
  plan: Plan,
  scenario: Scenario,
  system: SystemSpec,
  failover?: FailoverCase,
): number {
  const warmup =
    scenario === 'slow' || scenario === 'mixed' ? plan.warmup / 4 : plan.warmup;
  // Start-up (podium's Nest app takes longer), warm-up at 1,000/s and its pause, stop and checks.
  const start =
    (system.kind === 'podium' ? 2.5 : 0.8) +
    warmup / 1000 +
    plan.pauseMs / 1000 +
    0.5;
  switch (scenario) {
    case 'saturation':
      return (
        start +
        Math.min(
          plan.saturation.deadlineS,
          plan.saturation.orders / (SATURATION_RATE[system.id] ?? 1000),
        )
      );
    case 'latency':
      return (
        start +
        plan.latency.rates.length *
          (plan.latency.seconds + plan.pauseMs / 1000 + 0.2) +
        (JOB_QUEUES.has(system.id) ? plan.latency.drainS : 0)
      );
    case 'crash':
      // Until the keys are complete (jobs come back once their locks expired), or quiet for settleS.
      return start + plan.crash.seconds + plan.crash.settleS;
    case 'slow':
    case 'mixed':
      return (
        start +
        plan.slow.seconds +
        (system.id === 'seed' ? plan.slow.drainS : 1)
      );
    case 'http': {
      // Measured: the listeners process and the HTTP server start (the box office's Nest app takes longer),
      // the warm-up (durable purchases wait for their jobs), the load, then reading the orders back, the drain and the checks.
      const durable = system.mode === 'durable';
      return (
        1.5 +
        (system.id === 'bare' ? 0.8 : 1.5) +
        0.6 +
        plan.http.warmup / (durable ? 500 : 800) +
        plan.http.seconds +
        (durable ? 1.5 : 1.2)
      );
    }
    case 'failover':
      return failoverWeight(plan, system, failover!);
    case 'cluster':
      // Measured: the topology (~1 s, a cluster ~3 s), the listeners process, the warm-up, the
      // saturation, the MONITOR batch, the checks (a cluster's reads add up 17 parts).
      return (
        2.5 +
        2.5 +
        1 + // the idle second
        plan.cluster.warmup / 1000 +
        (plan.cluster.orders + plan.cluster.monitorOrders) /
          (system.id === 'durable' ? 1500 : 2500) +
        1.5
      );
  }
}

function steps(
  plan: Plan,
  orders: Record<string, Order[]>,
  scenarios: Scenario[],
  systems: string[] | undefined,
  results: Results,
): Step[] {
  const pick = (list: SystemSpec[]) =>
    list.filter((s) => !systems || systems.includes(s.id));
  const out: Step[] = [];
  const add = (
    scenario: Scenario,
    list: SystemSpec[],
    reps: number,
    run: (ctx: Ctx, system: SystemSpec, rep: number) => Promise<unknown>,
    /** The failover scenario: what each of its runs does. */
    failovers?: Map<SystemSpec, FailoverCase>,
  ) => {
    if (!scenarios.includes(scenario)) return;
    // Repeats go round all systems, so a disturbance on the machine hits every system alike.
    for (let rep = 1; rep <= reps; rep++) {
      for (const system of pick(list)) {
        const failover = failovers?.get(system);
        out.push({
          scenario,
          system,
          rep,
          weight: weight(plan, scenario, system, failover),
          ...(failover && { detail: failoverDetail(failover) }),
          run: (ctx) => run(ctx, system, rep),
        });
      }
    }
  };
  // The traced variants last: the cost of tracing, against the same modes untraced.
  add(
    'saturation',
    [...ALL_SYSTEMS, ...TRACED_SYSTEMS],
    plan.reps.saturation,
    async (ctx, system, rep) => {
      results.saturation.push(
        await saturationRun(ctx, system, rep, orders.warmup, orders.saturation),
      );
    },
  );
  add('latency', ALL_SYSTEMS, plan.reps.latency, async (ctx, system, rep) => {
    results.latency.push(
      await latencyRun(
        ctx,
        system,
        rep,
        orders.warmup,
        plan.latency.rates.map((r) => orders[`latency${r}`]),
      ),
    );
  });
  // The crash compares with (a), the at-most-once baseline, and the durable ones: (c) recovers
  // but counts twice, (d) recovers exactly once. --quick leaves (a) out, to stay under 3 minutes.
  const quick = plan.name === 'quick';
  add(
    'crash',
    [...(quick ? [] : [SEED]), BULLMQ, STREAMS, EPHEMERAL, QUEUED, DURABLE],
    plan.reps.crash,
    async (ctx, system, rep) => {
      results.crash.push(
        await crashRun(ctx, system, rep, orders.warmup, orders.crash),
      );
    },
  );
  // The slow listener compares with (a) only.
  add(
    'slow',
    [SEED, EPHEMERAL, QUEUED, DURABLE],
    plan.reps.slow,
    async (ctx, system, rep) => {
      results.slow.push(
        await slowRun(ctx, system, rep, orders.slowWarmup, orders.slow),
      );
    },
  );
  add('mixed', [MIXED], plan.reps.slow, async (ctx, system, rep) => {
    results.mixed.push(
      await slowRun(ctx, system, rep, orders.slowWarmup, orders.slow, 'mixed'),
    );
  });
  // Purchases over HTTP: the bare endpoint (with podium's ephemeral listeners), then the box office in front of
  // podium's ephemeral and durable listeners, untraced and traced.
  add(
    'http',
    [BARE, EPHEMERAL, DURABLE, ...TRACED_SYSTEMS],
    plan.reps.http,
    async (ctx, system, rep) => {
      (results.http ??= []).push(
        await httpRun(
          ctx,
          system,
          system === BARE ? 'bare' : 'box-office',
          rep,
        ),
      );
    },
  );
  // Failover: each mode with REDIS_WAIT_REPLICAS 0, then 1, one kill each; the two settings of a
  // mode run one after the other, so the cost of WAIT compares runs the machine's load hit alike.
  // Then a planned SENTINEL FAILOVER with each (--quick: ephemeral and durable only). Then each
  // app's network to Redis cut silently, with ephemeral and with durable listeners.
  const failovers = new Map<SystemSpec, FailoverCase>();
  for (const trigger of ['kill', 'planned'] as const)
    for (const mode of [EPHEMERAL, QUEUED, DURABLE]) {
      if (trigger === 'planned' && quick && mode === QUEUED) continue;
      for (const waitReplicas of [0, 1])
        failovers.set(
          {
            ...mode,
            label: `${mode.label}, ${TRIGGER_LABEL[trigger]}, REDIS_WAIT_REPLICAS=${waitReplicas}`,
          },
          { trigger, waitReplicas },
        );
    }
  for (const cut of ['listeners', 'box-office'] as const)
    for (const mode of [EPHEMERAL, DURABLE])
      failovers.set(
        { ...mode, label: `${mode.label}, ${CUT_LABEL[cut]}` },
        {
          cut,
        },
      );
  add(
    'failover',
    [...failovers.keys()],
    plan.reps.failover,
    async (ctx, system, rep) => {
      const run = failovers.get(system)!;
      if ('cut' in run)
        (results.networkCut ??= []).push(
          await networkCutRun(ctx, system, run.cut, rep),
        );
      else
        (results.failover ??= []).push(
          await failoverRun(ctx, system, run.waitReplicas, run.trigger, rep),
        );
    },
    failovers,
  );
  // Cluster: each layout in turn, ephemeral then durable.
  for (const layout of CLUSTER_LAYOUTS)
    add(
      'cluster',
      [EPHEMERAL, DURABLE].map((s) => ({
        ...s,
        label: `${s.label} on ${layout}`,
      })),
      plan.reps.cluster,
      async (ctx, system, rep) => {
        (results.cluster ??= []).push(
          await clusterRun(ctx, system, layout, rep),
        );
      },
    );
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const from = option(args, 'from');
  if (from) {
    const results = JSON.parse(readFileSync(from, 'utf8')) as Results;
    const dir = option(args, 'out') ?? dirname(from);
    mkdirSync(dir, { recursive: true });
    const files = writeReport(dir, results);
    console.error(`Report written again: ${files.join(', ')}`);
    return;
  }
  const plan = planFrom(args);
  const only = option(args, 'only')?.split(',') as Scenario[] | undefined;
  const unknown = only?.filter((s) => !SCENARIOS.includes(s));
  if (unknown?.length)
    throw new Error(
      `--only: unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}`,
    );
  const systems = option(args, 'systems')?.split(',');
  const known = [...ALL_SYSTEMS, MIXED, BARE, ...TRACED_SYSTEMS].map(
    (s) => s.id,
  );
  const strangers = systems?.filter((s) => !known.includes(s));
  if (strangers?.length)
    throw new Error(
      `--systems: unknown system(s) ${strangers.join(', ')}; known: ${known.join(', ')}`,
    );
  if (args.includes('--estimate')) {
    const planned = steps(
      plan,
      {},
      only ?? [...SCENARIOS],
      systems,
      {} as Results,
    );
    for (const step of planned)
      console.log(
        `${step.scenario.padEnd(10)} ${step.system.id.padEnd(9)} run ${step.rep}  ~${Math.round(step.weight)} s${step.detail ? `  (${step.detail})` : ''}`,
      );
    console.log(
      `${planned.length} runs, about ${clock(planned.reduce((sum, s) => sum + s.weight, 0))} (the plan's weights; start-up and checks included)`,
    );
    return;
  }
  const root = projectRoot();
  const outDir =
    option(args, 'out') ??
    join(root, 'bench', 'results', ...(plan.name === 'quick' ? ['quick'] : []));
  const logDir = join(
    root,
    'bench',
    'results',
    'tmp',
    `logs-${new Date().toISOString().replace(/[:.]/g, '-')}`,
  );
  mkdirSync(outDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });

  const t = (n: number, seed: number) => makeOrders(n, seed);
  const orders: Record<string, Order[]> = {
    warmup: t(plan.warmup, 1),
    slowWarmup: t(Math.round(plan.warmup / 4), 2),
    saturation: t(plan.saturation.orders, 3),
    crash: t(Math.round(plan.crash.rate * plan.crash.seconds), 4),
    slow: t(Math.round(plan.slow.rate * plan.slow.seconds), 5),
  };
  plan.latency.rates.forEach(
    (rate, i) =>
      (orders[`latency${rate}`] = t(
        Math.round(rate * plan.latency.seconds),
        10 + i,
      )),
  );

  const redis = await BenchRedis.start(logDir);
  const sink = await OtlpSink.start();
  const results: Results = {
    meta: {
      plan,
      startedAt: new Date().toISOString(),
      durationS: 0,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? '?',
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
        redis: await redis.version(),
        commit: gitCommit(root),
      },
      loadAverageAtStart: loadAverage(),
      steps: [],
    },
    saturation: [],
    latency: [],
    crash: [],
    slow: [],
    mixed: [],
    http: [],
    failover: [],
    networkCut: [],
    cluster: [],
    failures: [],
  };
  const todo = steps(plan, orders, only ?? [...SCENARIOS], systems, results);
  const progress = new Progress(todo.reduce((sum, s) => sum + s.weight, 0));
  const ctx: Ctx = { plan, redis, logDir, progress, sink };
  const started = performance.now();
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    progress.log(
      'Interrupted: finishing the current run, then writing what was measured.',
    );
  });

  progress.log(
    `podium bench (${plan.name}): ${todo.length} runs, about ${clock(todo.reduce((sum, s) => sum + s.weight, 0))}, on a private redis-server ${redis.url} (Redis ${results.meta.machine.redis}, ${process.version})`,
  );
  progress.start();
  try {
    for (const step of todo) {
      if (interrupted) break;
      const reps =
        plan.reps[step.scenario === 'mixed' ? 'slow' : step.scenario];
      progress.step(
        `${step.scenario} · ${step.system.label}${reps > 1 ? ` · run ${step.rep} of ${reps}` : ''}`,
        step.weight,
      );
      const stepStart = performance.now();
      try {
        await step.run(ctx);
        results.meta.steps.push({
          step: `${step.scenario} ${step.system.id} ${step.rep}${step.detail ? ` (${step.detail})` : ''}`,
          seconds: Math.round((performance.now() - stepStart) / 100) / 10,
        });
      } catch (err) {
        const message = (err as Error).message;
        results.failures.push({
          scenario: step.scenario,
          system: step.detail
            ? `${step.system.id} (${step.detail})`
            : step.system.id,
          rep: step.rep,
          error: message,
        });
        progress.log(
          `FAILED ${step.scenario} ${step.system.label} run ${step.rep}: ${message}`,
        );
      }
    }
  } finally {
    results.meta.durationS = Math.round((performance.now() - started) / 1000);
    results.meta.loadAverageAtEnd = loadAverage();
    await redis.destroy().catch(() => undefined);
    await sink.close();
  }
  const files = writeReport(outDir, results);
  if (!args.includes('--keep-logs'))
    rmSync(logDir, { recursive: true, force: true });
  progress.finish(
    `Done in ${clock(results.meta.durationS)}${results.failures.length ? ` with ${results.failures.length} failed run(s)` : ''}. ` +
      `Report: ${files.map((f) => relative(process.cwd(), f)).join(', ')}` +
      (args.includes('--keep-logs')
        ? `\nLogs: ${relative(process.cwd(), logDir)}`
        : ''),
  );
}

/** The folder holding package.json, above the compiled bench (dist/ or another outDir). */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir)
      throw new Error(
        'cannot find the project folder (package.json) above the bench',
      );
    dir = up;
  }
  return dir;
}

function gitCommit(root: string): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync(
      'git',
      ['status', '--porcelain', '--untracked-files=no'],
      { cwd: root, encoding: 'utf8' },
    ).trim();
    return dirty ? `${commit} (with uncommitted changes)` : commit;
  } catch {
    return '?';
  }
}

function loadAverage(): number[] {
  return loadavg().map((n) => Math.round(n * 100) / 100);
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
