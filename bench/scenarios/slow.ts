import type { Order } from '@podium/orders';
import { SLOW_LISTENER, type SystemSpec } from '../lib/model.js';
import type { Point } from '../lib/monitor.js';
import { percentiles, type Percentiles } from '../lib/stats.js';
import {
  round,
  withSession,
  type Ctx,
  type RunCommon,
  type Session,
} from './common.js';
import { rounded } from './latency.js';

export interface SlowRun extends RunCommon {
  rate: number;
  orders: number;
  achievedRate: number;
  /** Orders published but not yet applied by the slow listener: the most, and when the stream ended. */
  backlogPeak: number;
  backlogAtStreamEnd: number;
  /** Where the slow listener's backlog waits: a BullMQ queue (podium queued/durable), the process (seed). */
  queueDepthPeak?: number;
  /** All effects applied within the drain deadline after the stream. */
  complete: boolean;
  slow: Percentiles;
  /** The other four listeners, pooled. */
  others: Percentiles;
  perListener: Record<string, Percentiles>;
  streamStartS: number;
  streamEndS: number;
  series: Point[];
}

/**
 * Scenarios 4 and 5: slow-invoices (customer-invoices' effect after a 20 ms wait) in place
 * of customer-invoices, a steady 500 orders/s; the process's memory, the slow listener's
 * backlog, the subscriber's output buffer in Redis, and the other listeners' latency.
 */
export async function slowRun(
  ctx: Ctx,
  system: SystemSpec,
  rep: number,
  warmup: readonly Order[],
  orders: readonly Order[],
  tag = 'slow',
): Promise<SlowRun> {
  const { rate, drainS } = ctx.plan.slow;
  let base = { published: Number.POSITIVE_INFINITY, applied: 0 };
  let slowIndex = -1;
  const extra = async (s: Session): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    if (slowIndex < 0) return out;
    out.backlog = Math.max(
      0,
      s.driver.published -
        base.published -
        (s.collector.applied[slowIndex] - base.applied),
    );
    const queue = s.queueOf(SLOW_LISTENER);
    if (queue) out.queue = await ctx.redis.queueDepth(queue);
    if (s.system.kind === 'seed') out.queue = s.proc.pending[slowIndex] ?? 0;
    return out;
  };
  return withSession(
    ctx,
    system,
    'slow',
    `${tag}-r${rep}`,
    async (s) => {
      slowIndex = s.names.indexOf(SLOW_LISTENER);
      await s.warmUp(warmup);
      base = {
        published: s.driver.published,
        applied: s.collector.applied[slowIndex],
      };
      const streamStartS = s.elapsedS();
      const stream = await s.paced(orders, rate);
      const streamEndS = s.elapsedS();
      await s.proc.flush();
      const backlogAtStreamEnd =
        orders.length - (s.collector.applied[slowIndex] - base.applied);
      const complete = await s.waitApplied({
        deadlineS: drainS,
        idleS: drainS,
      });
      const ids = new Set(orders.map((o) => o.orderId));
      const { perListener } = s.collector.latencies(s.driver.t0, ids);
      // Pool the other listeners' samples again from the raw latencies.
      const at = s.collector.appliedAt(ids);
      const others: number[] = [];
      at.forEach((m, i) => {
        if (i === slowIndex) return;
        for (const [id, t1] of m) others.push(t1 - s.driver.t0.get(id)!);
      });
      const common = await s.close(rep);
      const points = s.monitor.points;
      const inStream = points.filter((p) => p.t >= streamStartS);
      return {
        ...common,
        rate,
        orders: orders.length,
        achievedRate: round(stream.achievedRate, 0),
        backlogPeak: Math.max(
          backlogAtStreamEnd,
          ...inStream.map((p) => p.backlog ?? 0),
        ),
        backlogAtStreamEnd,
        ...(inStream.some((p) => p.queue !== undefined) && {
          queueDepthPeak: Math.max(...inStream.map((p) => p.queue ?? 0)),
        }),
        complete,
        slow: rounded(perListener[SLOW_LISTENER]),
        others: rounded(percentiles(others)),
        perListener: Object.fromEntries(
          Object.entries(perListener).map(([k, v]) => [k, rounded(v)]),
        ),
        streamStartS: round(streamStartS, 2),
        streamEndS: round(streamEndS, 2),
        series: points,
      };
    },
    { extra },
  );
}
