import type { Order } from '@podium/orders';
import type { CpuUse } from '../lib/cpu.js';
import { now } from '../lib/driver.js';
import type { SystemSpec } from '../lib/model.js';
import {
  commandsPerOrder,
  type CommandStat,
  type KeyKind,
} from '../lib/server.js';
import { percentiles, type Percentiles } from '../lib/stats.js';
import { round, withSession, type Ctx, type RunCommon } from './common.js';
import { rounded } from './latency.js';

export interface SaturationRun extends RunCommon {
  orders: number;
  /** How fast the bench could publish them. */
  publishRate: number;
  /** From the first publish to the last effect applied. */
  seconds: number;
  /** Orders fully applied by all listeners per second. */
  ordersPerSecond: number;
  complete: boolean;
  /** Share of the expected effects applied, worst listener (1 when complete). */
  appliedShare: number;
  /** The longest stretch, after the first publish, in which no effect of these orders was applied. */
  longestStallS: number;
  /** CPU used from the first publish until all was applied. */
  cpu: CpuUse;
  /** Redis memory (used_memory) the run's orders left behind, bytes per order, orders' own hashes included. */
  redisBytesPerOrder: number;
  /** podium: what the keys hold at the end, bytes per order (MEMORY USAGE), by kind. */
  redisBytesByKind?: Record<KeyKind, number>;
  /** How long each publish took (OrderPublisher.record and the system's step), ms. */
  record: Percentiles;
  /** Where Redis spent its time, per order: INFO commandstats over the same window as `cpu`. */
  redisCommands?: Record<string, CommandStat>;
}

/**
 * Scenario 1: publish every order as fast as the publisher allows (several concurrent
 * publishers), and time from the first publish until every listener applied every order.
 */
export async function saturationRun(
  ctx: Ctx,
  system: SystemSpec,
  rep: number,
  warmup: readonly Order[],
  orders: readonly Order[],
): Promise<SaturationRun> {
  const { concurrency, deadlineS, idleS } = ctx.plan.saturation;
  return withSession(
    ctx,
    system,
    'standard',
    `saturation-r${rep}`,
    async (s) => {
      const memory0 = await ctx.redis.usedMemory();
      await s.warmUp(warmup);
      const commands0 = await ctx.redis.commandStats();
      const cpu0 = s.cpuMark();
      const stream = await s.saturate(orders, concurrency);
      const complete = await s.waitApplied({
        deadlineS: deadlineS - (now() - stream.startMs) / 1000,
        idleS,
      });
      const cpu = s.cpuSince(cpu0);
      const redisCommands = commandsPerOrder(
        commands0,
        await ctx.redis.commandStats(),
        orders.length,
      );
      const ids = new Set(orders.map((o) => o.orderId));
      // Complete: until the last effect. Not: until the bench stopped waiting.
      const end = complete ? s.collector.lastApplied(ids) : now();
      const seconds = (end - stream.startMs) / 1000;
      const longestStallS =
        s.collector.longestGap(ids, stream.startMs, end) / 1000;
      // Incomplete: count only the share every listener got through.
      const at = s.collector.appliedAt(ids);
      const expected = s.expected(orders);
      const share = Math.min(
        ...at.map((m, i) => (expected[i] ? m.size / expected[i] : 1)),
      );
      const record = rounded(percentiles(s.driver.recordDurations(orders)));
      const common = await s.close(rep);
      const memory = await ctx.redis.usedMemory();
      const perOrder = (bytes: number) =>
        round(bytes / (orders.length + warmup.length), 0);
      const byKind =
        system.kind === 'podium' ? await ctx.redis.memoryByKind() : undefined;
      return {
        ...(byKind && {
          redisBytesByKind: Object.fromEntries(
            Object.entries(byKind).map(([k, v]) => [k, perOrder(v)]),
          ) as Record<KeyKind, number>,
        }),
        record,
        redisCommands,
        redisBytesPerOrder: perOrder(memory - memory0),
        ...common,
        orders: orders.length,
        publishRate: round(stream.achievedRate, 0),
        seconds: round(seconds, 3),
        ordersPerSecond: round((orders.length * share) / seconds, 0),
        complete,
        appliedShare: round(share, 4),
        longestStallS: round(longestStallS, 2),
        cpu,
      };
    },
  );
}
