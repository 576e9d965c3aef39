import { setTimeout as sleep } from 'node:timers/promises';
import type { Order } from '@podium/orders';
import type { CpuUse } from '../lib/cpu.js';
import type { BatchFigure } from '../lib/metrics.js';
import type { SystemSpec } from '../lib/model.js';
import { percentiles, type Percentiles } from '../lib/stats.js';
import {
  round,
  roundBatch,
  withSession,
  type Ctx,
  type RunCommon,
} from './common.js';

export interface LatencyPhase {
  rate: number;
  orders: number;
  achievedRate: number;
  /** Worst delay of a publish behind its schedule in the bench (a late publisher, not a slow listener). */
  maxPublishLagMs: number;
  /** Every effect applied before the drain deadline. */
  complete: boolean;
  /** Share of the expected effects applied (1 when complete). */
  appliedShare: number;
  /** Milliseconds from just before OrderPublisher.record to the listener's effect applied. */
  all: Percentiles;
  /** The four listeners other than customer-invoices, pooled (compared with the slow scenarios). */
  othersThanInvoices: Percentiles;
  perListener: Record<string, Percentiles>;
  /** How long OrderPublisher.record took, ms (part of every latency above). */
  record: Percentiles;
  /**
   * Queued and durable: BullMQ's timestamps of the jobs of sales-summary's group queue, ms: from the job's
   * creation to a worker taking it, and from then to the job finished.
   */
  jobs?: { waited: Percentiles; ran: Percentiles };
  cpu: CpuUse;
  /** podium: the batch sizes reached at this rate (stream and drain). */
  batches?: BatchFigure[];
}

export interface LatencyRun extends RunCommon {
  phases: LatencyPhase[];
}

/**
 * Scenario 2: a steady stream at each offered rate in turn (same process, no flush between
 * rates), each drained before the next; latency per order and listener.
 */
export async function latencyRun(
  ctx: Ctx,
  system: SystemSpec,
  rep: number,
  warmup: readonly Order[],
  byRate: readonly Order[][],
): Promise<LatencyRun> {
  const { rates, drainS } = ctx.plan.latency;
  return withSession(ctx, system, 'standard', `latency-r${rep}`, async (s) => {
    await s.warmUp(warmup);
    const phases: LatencyPhase[] = [];
    for (const [i, rate] of rates.entries()) {
      const orders = byRate[i];
      const podium = system.kind === 'podium';
      const mark = podium ? await s.batchMark() : undefined;
      const cpu0 = s.cpuMark();
      const stream = await s.paced(orders, rate);
      const complete = await s.waitApplied({
        deadlineS: drainS,
        idleS: drainS,
      });
      const cpu = s.cpuSince(cpu0);
      const ids = new Set(orders.map((o) => o.orderId));
      const { all, perListener } = s.collector.latencies(s.driver.t0, ids);
      const others: number[] = [];
      s.collector.appliedAt(ids).forEach((m, k) => {
        if (s.names[k] === 'customer-invoices') return;
        for (const [id, t1] of m) others.push(t1 - s.driver.t0.get(id)!);
      });
      const expected = s.expected(orders).reduce((a, b) => a + b, 0);
      phases.push({
        rate,
        orders: orders.length,
        achievedRate: round(stream.achievedRate, 0),
        maxPublishLagMs: round(stream.maxLagMs, 2),
        complete,
        appliedShare: round(all.count / expected, 4),
        all: rounded(all),
        othersThanInvoices: rounded(percentiles(others)),
        perListener: Object.fromEntries(
          Object.entries(perListener).map(([k, v]) => [k, rounded(v)]),
        ),
        record: rounded(percentiles(s.driver.recordDurations(orders))),
        cpu,
        ...(mark && {
          batches: (await s.batchesSince(mark)).map(roundBatch),
        }),
      });
      // A system that could not keep up would carry its backlog into the next rate.
      if (!complete) break;
      await sleep(ctx.plan.pauseMs);
    }
    return { ...(await s.close(rep)), phases };
  });
}

export function rounded(p: Percentiles): Percentiles {
  return {
    count: p.count,
    p50: round(p.p50, 3),
    p95: round(p.p95, 3),
    p99: round(p.p99, 3),
    max: round(p.max, 3),
    mean: round(p.mean, 3),
  };
}
