/**
 * `npm run bench [-- --quick]`: podium's three delivery modes and two baselines, side by
 * side, on a private redis-server. See bench/README.md.
 *
 * Options: --quick (a short run, under 2 minutes), --only=saturation,latency,crash,slow,mixed,
 * --systems=seed,nest,ephemeral,queued,durable, --reps=N, --out=DIR, --keep-logs,
 * --from=results.json (only write the report again, from a run's figures).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Order } from '@podium/orders';
import { ALL_SYSTEMS, DURABLE, EPHEMERAL, MIXED, QUEUED, SEED, type SystemSpec } from './lib/model.js';
import { makeOrders } from './lib/orders.js';
import { FULL, QUICK, type Plan } from './lib/plan.js';
import { clock, Progress } from './lib/progress.js';
import { BenchRedis } from './lib/server.js';
import { writeReport } from './report/report.js';
import type { Results } from './report/results.js';
import type { Ctx } from './scenarios/common.js';
import { crashRun } from './scenarios/crash.js';
import { latencyRun } from './scenarios/latency.js';
import { saturationRun } from './scenarios/saturation.js';
import { slowRun } from './scenarios/slow.js';

const SCENARIOS = ['saturation', 'latency', 'crash', 'slow', 'mixed'] as const;
type Scenario = (typeof SCENARIOS)[number];

interface Step {
  scenario: Scenario;
  system: SystemSpec;
  rep: number;
  /** Expected seconds, for the progress bar. */
  weight: number;
  run: (ctx: Ctx) => Promise<unknown>;
}

function option(args: string[], name: string): string | undefined {
  return args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

function planFrom(args: string[]): Plan {
  const base = args.includes('--quick') ? QUICK : FULL;
  const reps = option(args, 'reps');
  if (!reps) return base;
  const n = Number(reps);
  if (!Number.isInteger(n) || n < 1) throw new Error('--reps must be a positive integer');
  return { ...base, reps: { saturation: n, latency: n, crash: n, slow: n } };
}

/** Rough seconds per run on a 2-core machine, for the progress bar's estimate only. */
function weight(plan: Plan, scenario: Scenario, system: SystemSpec): number {
  const start = 2.5;
  const queuedLike = system.id === 'queued' || system.id === 'durable';
  switch (scenario) {
    case 'saturation':
      return start + Math.min(plan.saturation.deadlineS, plan.saturation.orders / (queuedLike ? 350 : 1600));
    case 'latency':
      return start + plan.latency.rates.length * (plan.latency.seconds + 1) + (queuedLike ? plan.latency.drainS : 0);
    case 'crash':
      return start + plan.crash.seconds + (queuedLike ? (plan.crash.lockMs + 2 * plan.crash.stalledCheckMs) / 1000 : plan.crash.settleS);
    case 'slow':
    case 'mixed':
      return start + plan.slow.seconds + (system.id === 'seed' ? plan.slow.drainS : 1);
  }
}

function steps(plan: Plan, orders: Record<string, Order[]>, scenarios: Scenario[], systems: string[] | undefined, results: Results): Step[] {
  const pick = (list: SystemSpec[]) => list.filter((s) => !systems || systems.includes(s.id));
  const out: Step[] = [];
  const add = (scenario: Scenario, list: SystemSpec[], reps: number, run: (ctx: Ctx, system: SystemSpec, rep: number) => Promise<unknown>) => {
    if (!scenarios.includes(scenario)) return;
    // Repeats go round all systems, so a disturbance on the machine hits every system alike.
    for (let rep = 1; rep <= reps; rep++) {
      for (const system of pick(list)) out.push({ scenario, system, rep, weight: weight(plan, scenario, system), run: (ctx) => run(ctx, system, rep) });
    }
  };
  add('saturation', ALL_SYSTEMS, plan.reps.saturation, async (ctx, system, rep) => {
    results.saturation.push(await saturationRun(ctx, system, rep, orders.warmup, orders.saturation));
  });
  add('latency', ALL_SYSTEMS, plan.reps.latency, async (ctx, system, rep) => {
    results.latency.push(await latencyRun(ctx, system, rep, orders.warmup, plan.latency.rates.map((r) => orders[`latency${r}`])));
  });
  // Scenarios 3 and 4 compare with baseline (a) only; --quick leaves it out of the crash, to stay under 2 minutes.
  const quick = plan.name === 'quick';
  add('crash', quick ? [EPHEMERAL, QUEUED, DURABLE] : [SEED, EPHEMERAL, QUEUED, DURABLE], plan.reps.crash, async (ctx, system, rep) => {
    results.crash.push(await crashRun(ctx, system, rep, orders.warmup, orders.crash));
  });
  add('slow', [SEED, EPHEMERAL, QUEUED, DURABLE], plan.reps.slow, async (ctx, system, rep) => {
    results.slow.push(await slowRun(ctx, system, rep, orders.slowWarmup, orders.slow));
  });
  add('mixed', [MIXED], plan.reps.slow, async (ctx, system, rep) => {
    results.mixed.push(await slowRun(ctx, system, rep, orders.slowWarmup, orders.slow, 'mixed'));
  });
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const from = option(args, 'from');
  if (from) {
    const results = JSON.parse(readFileSync(from, 'utf8')) as Results;
    const files = writeReport(option(args, 'out') ?? dirname(from), results);
    console.error(`Report written again: ${files.join(', ')}`);
    return;
  }
  const plan = planFrom(args);
  const root = projectRoot();
  const outDir = option(args, 'out') ?? join(root, 'bench', 'results', ...(plan.name === 'quick' ? ['quick'] : []));
  const logDir = join(root, 'bench', 'results', 'tmp', `logs-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(outDir, { recursive: true });
  mkdirSync(logDir, { recursive: true });
  const only = option(args, 'only')?.split(',') as Scenario[] | undefined;
  const unknown = only?.filter((s) => !SCENARIOS.includes(s));
  if (unknown?.length) throw new Error(`--only: unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}`);
  const systems = option(args, 'systems')?.split(',');

  const t = (n: number, seed: number) => makeOrders(n, seed);
  const orders: Record<string, Order[]> = {
    warmup: t(plan.warmup, 1),
    slowWarmup: t(Math.round(plan.warmup / 4), 2),
    saturation: t(plan.saturation.orders, 3),
    crash: t(Math.round(plan.crash.rate * plan.crash.seconds), 4),
    slow: t(Math.round(plan.slow.rate * plan.slow.seconds), 5),
  };
  plan.latency.rates.forEach((rate, i) => (orders[`latency${rate}`] = t(Math.round(rate * plan.latency.seconds), 10 + i)));

  const redis = await BenchRedis.start(logDir);
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
    failures: [],
  };
  const todo = steps(plan, orders, only ?? [...SCENARIOS], systems, results);
  const progress = new Progress(todo.reduce((sum, s) => sum + s.weight, 0));
  const ctx: Ctx = { plan, redis, logDir, progress };
  const started = performance.now();
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    progress.log('Interrupted: finishing the current run, then writing what was measured.');
  });

  progress.log(`podium bench (${plan.name}): ${todo.length} runs on a private redis-server ${redis.url} (Redis ${results.meta.machine.redis}, ${process.version})`);
  progress.start();
  try {
    for (const step of todo) {
      if (interrupted) break;
      const reps = plan.reps[step.scenario === 'mixed' ? 'slow' : step.scenario];
      progress.step(`${step.scenario} · ${step.system.label}${reps > 1 ? ` · run ${step.rep} of ${reps}` : ''}`, step.weight);
      const stepStart = performance.now();
      try {
        await step.run(ctx);
        results.meta.steps.push({ step: `${step.scenario} ${step.system.id} ${step.rep}`, seconds: Math.round((performance.now() - stepStart) / 100) / 10 });
      } catch (err) {
        const message = (err as Error).message;
        results.failures.push({ scenario: step.scenario, system: step.system.id, rep: step.rep, error: message });
        progress.log(`FAILED ${step.scenario} ${step.system.id} run ${step.rep}: ${message}`);
      }
    }
  } finally {
    results.meta.durationS = Math.round((performance.now() - started) / 1000);
    results.meta.loadAverageAtEnd = loadAverage();
    await redis.destroy().catch(() => undefined);
  }
  const files = writeReport(outDir, results);
  if (!args.includes('--keep-logs')) rmSync(logDir, { recursive: true, force: true });
  progress.finish(
    `Done in ${clock(results.meta.durationS)}${results.failures.length ? ` with ${results.failures.length} failed run(s)` : ''}. ` +
      `Report: ${files.map((f) => relative(process.cwd(), f)).join(', ')}` +
      (args.includes('--keep-logs') ? `\nLogs: ${relative(process.cwd(), logDir)}` : ''),
  );
}

/** The folder holding package.json, above the compiled bench (dist/ or another outDir). */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the project folder (package.json) above the bench');
    dir = up;
  }
  return dir;
}

function gitCommit(root: string): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).trim();
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
