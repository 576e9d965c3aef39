import { setTimeout as sleep } from 'node:timers/promises';
import type { DeliveryMode } from '@podium/core';
import { logBaseFor, logProblems } from '../lib/child.js';
import { cpuSeconds, type CpuUse } from '../lib/cpu.js';
import { now } from '../lib/driver.js';
import {
  BENCH_OPERATOR,
  HttpServerProcess,
  type HttpServerKind,
} from '../lib/http-server.js';
import { loadPurchases } from '../lib/load.js';
import { fetchHistograms, type HistogramSnapshot } from '../lib/metrics.js';
import { EVENTS, PRICE, type SystemSpec } from '../lib/model.js';
import { percentiles, type Percentiles } from '../lib/stats.js';
import { tracingEnv } from '../lib/tracing.js';
import { rounded } from './latency.js';
import { round, withSession, type Ctx, type RunCommon } from './common.js';

export interface HttpRun extends RunCommon {
  server: HttpServerKind;
  /** podium's delivery mode of the listeners that apply the orders. */
  mode: DeliveryMode;
  connections: number;
  /** Wall seconds of the measured load. */
  seconds: number;
  /** Answers of the measured load, by status code. */
  statuses: Record<string, number>;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** 2xx answers per second of the load. */
  purchasesPerSecond: number;
  /** Response times of the 2xx answers, ms, as autocannon saw them. */
  latency: Percentiles;
  /** Orders the measured load left in Redis, answered or not. */
  recorded: number;
  /** Recorded but not answered: in flight when autocannon stopped (at most one per connection). */
  unanswered: number;
  /** 201 answers whose order is not in Redis (must be 0). */
  answeredMissing: number;
  /** Every order of the run (warm-up included) applied by every listener within the drain deadline. */
  complete: boolean;
  /** From the end of the load until its last effect was applied, or the deadline. */
  drainS: number;
  /** CPU from the start of the load until every effect was applied; `server` is the HTTP server's, until it stopped after the load. */
  cpu: CpuUse & { server: number };
  serverPeakRssMb: number;
  serverStartupMs: number;
  serverLogProblems: { count: number; first: string[] };
}

const authorization = `Basic ${Buffer.from(`${BENCH_OPERATOR.user}:${BENCH_OPERATOR.password}`).toString('base64')}`;

/** The seed's events, created as an operator would: through the box office's API. */
export async function createEvents(url: string): Promise<void> {
  for (const name of EVENTS) {
    const res = await fetch(`${url}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ name, price: PRICE }),
    });
    if (res.status !== 201)
      throw new Error(
        `POST /events ${name}: ${res.status} ${(await res.text()).slice(0, 200)}`,
      );
  }
}

/**
 * Scenario 6: purchases over HTTP, as users make them. The HTTP server (podium's box office,
 * or the bare endpoint) runs as its own process beside the listeners process; autocannon, in
 * the bench, keeps `connections` purchases in flight for `seconds`. Throughput counts the 2xx
 * answers; the orders are then read back from Redis and checked like every other run's.
 */
export async function httpRun(
  ctx: Ctx,
  system: SystemSpec,
  server: HttpServerKind,
  rep: number,
): Promise<HttpRun> {
  const { connections, seconds, warmup, drainS } = ctx.plan.http;
  const tag = `http-r${rep}`;
  return withSession(
    ctx,
    system,
    'standard',
    tag,
    async (s) => {
      const t = performance.now();
      // After the listeners process: the box office learns the durable subscriptions from Redis.
      const http = await HttpServerProcess.start(
        server,
        {
          REDIS_URL: ctx.redis.url,
          PURCHASE_RATE_LIMIT: '0',
          OPERATOR_USER: BENCH_OPERATOR.user,
          OPERATOR_PASSWORD: BENCH_OPERATOR.password,
          ...(system.traced ? tracingEnv(ctx.sink) : {}),
        },
        logBaseFor(ctx.logDir, tag, system.id, server),
      );
      try {
        s.timings.serverStartup = (performance.now() - t) / 1000;
        if (server === 'box-office') {
          await createEvents(http.url);
          s.publisherHistograms = () => fetchHistograms(http.url);
        } else
          s.publisherHistograms = () =>
            Promise.resolve<HistogramSnapshot>(new Map());

        const w = performance.now();
        await loadPurchases(http.url, { connections, amount: warmup });
        s.published.push(...(await ctx.redis.orders()));
        if (!(await s.waitApplied({ deadlineS: 60, idleS: 10 })))
          throw new Error(
            `${system.label}: the warm-up orders were not all applied`,
          );
        await sleep(ctx.plan.pauseMs);
        await s.startBatchWindow();
        s.timings.warmup = (performance.now() - w) / 1000;

        const before = new Set(s.published.map((o) => o.orderId));
        const cpu0 = s.cpuMark();
        const server0 = cpuSeconds(http.pid);
        const load = await loadPurchases(http.url, {
          connections,
          duration: seconds,
        });
        // autocannon drops the purchases in flight when it stops; the server still records them.
        // Stopping it lets them finish (the box office drains its requests, the bare app its
        // MULTIs), so that the orders read back are all there will be.
        const serverCpu = round(cpuSeconds(http.pid) - server0, 2);
        const publisher = await s.publisherHistograms();
        s.publisherHistograms = () => Promise.resolve(publisher);
        http.sample();
        const stopping = performance.now();
        await http.stop();
        s.timings.serverStop = (performance.now() - stopping) / 1000;
        const measured = (await ctx.redis.orders()).filter(
          (o) => !before.has(o.orderId),
        );
        s.published.push(...measured);
        const complete = await s.waitApplied({
          deadlineS: drainS,
          idleS: drainS,
        });
        const ids = new Set(measured.map((o) => o.orderId));
        const lastApplied = s.collector.lastApplied(ids);
        const drained = complete ? lastApplied : now();
        const cpu = s.cpuSince(cpu0);
        const answered = new Set(load.answered);
        const common = await s.close(rep);
        const answeredMissing = [...answered].filter((id) => !ids.has(id));
        if (answeredMissing.length)
          common.verification.problems.push(
            `${answeredMissing.length} purchases answered 201 have no order in Redis (e.g. ${answeredMissing[0]})`,
          );
        const loadS = (load.endMs - load.startMs) / 1000;
        return {
          ...common,
          server,
          mode: system.mode ?? 'ephemeral',
          connections,
          seconds: round(loadS, 2),
          statuses: load.statuses,
          ok: load.ok,
          non2xx: load.non2xx,
          errors: load.errors,
          timeouts: load.timeouts,
          purchasesPerSecond: round(load.ok / loadS, 0),
          latency: rounded(percentiles(load.latencies)),
          recorded: measured.length,
          unanswered: measured.filter((o) => !answered.has(o.orderId)).length,
          answeredMissing: answeredMissing.length,
          complete,
          drainS: round(Math.max(0, drained - load.endMs) / 1000, 2),
          cpu: { ...cpu, server: serverCpu },
          serverPeakRssMb: round(http.hwmKb / 1024, 1),
          serverStartupMs: round(http.readyMs, 0),
          serverLogProblems: logProblems(
            logBaseFor(ctx.logDir, tag, system.id, server),
          ),
        };
      } finally {
        await http.stop(); // already stopped unless the run failed
      }
    },
    // The bare endpoint has no events API: its events are written directly, as in every other scenario.
    // The box office publishes here, not the bench.
    { seedEvents: server === 'bare', tracePublisher: false },
  );
}
