import { setTimeout as sleep } from 'node:timers/promises';
import type { Order } from '@podium/orders';
import { now } from '../lib/driver.js';
import type { SystemSpec } from '../lib/model.js';
import type { Point } from '../lib/monitor.js';
import { appliedInRedis } from '../lib/verify.js';
import { round, withSession, type Ctx, type RunCommon } from './common.js';

export interface CrashRun extends RunCommon {
  orders: number;
  /** Seconds into the stream when the listeners process was killed. */
  killedAtS: number;
  /** From kill -9 until the new process was subscribed. */
  downMs: number;
  /** Orders published between the kill and the new process being subscribed. */
  announcedWhileDown: number;
  /** Every expected effect ended up applied. */
  complete: boolean;
  /** Seconds from the end of the stream until the keys stopped changing (or were complete). */
  settleS: number;
  /** podium's guard: duplicates it recognised and skipped (redelivered jobs), over all listeners. */
  duplicatesSkipped?: number;
  streamStartS: number;
  series: Point[];
}

/**
 * Scenario 3: kill -9 the listeners process a third of the way through a steady stream,
 * start a new one 2 s later, then wait for what can be recovered, and check the keys.
 */
export async function crashRun(
  ctx: Ctx,
  system: SystemSpec,
  rep: number,
  warmup: readonly Order[],
  orders: readonly Order[],
): Promise<CrashRun> {
  const {
    rate,
    seconds,
    downMs,
    deadlineS,
    settleS: quietS,
    lockMs,
    stalledCheckMs,
  } = ctx.plan.crash;
  const env = {
    QUEUE_LOCK_MS: String(lockMs),
    QUEUE_STALLED_CHECK_MS: String(stalledCheckMs),
  };
  return withSession(
    ctx,
    system,
    'standard',
    `crash-r${rep}`,
    async (s) => {
      await s.warmUp(warmup);
      const streamStartS = s.elapsedS();
      const streamStart = now();
      const stream = s.paced(orders, rate);
      await sleep((seconds * 1000) / 3);
      const killAt = now();
      await s.kill();
      await sleep(downMs);
      await s.restart();
      const readyAt = now();
      await stream;
      const streamEnd = now();

      // BullMQ jobs a dead worker held (podium queued and durable, baseline c) come back once their
      // lock expires (QUEUE_LOCK_MS) and a stalled check runs (every QUEUE_STALLED_CHECK_MS): wait at least that long.
      const minWaitMs = s.recoversThroughJobLocks()
        ? lockMs + 2 * stalledCheckMs + 1000
        : 1000;
      const expected = s.expected();
      let last = '';
      let lastChange = now();
      let complete = false;
      for (;;) {
        const counts = await appliedInRedis(ctx.redis.client, 'standard');
        if (counts.every((n, i) => n >= expected[i])) {
          complete = true;
          break;
        }
        const key = counts.join(',');
        if (key !== last) {
          last = key;
          lastChange = now();
        }
        const t = now();
        if (t - readyAt > minWaitMs && t - lastChange > quietS * 1000) break;
        if (t - streamEnd > deadlineS * 1000) break;
        await sleep(100);
      }
      const settleS = Math.max(0, (lastChange - streamEnd) / 1000);
      const announcedWhileDown = [...s.driver.t0.values()].filter(
        (t) => t >= killAt && t <= readyAt,
      ).length;
      const common = await s.close(rep);
      const stats = common.verification.podiumStats;
      return {
        ...common,
        orders: orders.length,
        killedAtS: round((killAt - streamStart) / 1000, 2),
        downMs: round(readyAt - killAt, 0),
        announcedWhileDown,
        complete,
        settleS: round(settleS, 2),
        ...(stats && {
          duplicatesSkipped: Object.values(stats).reduce(
            (sum, st) => sum + (st.duplicates ?? 0),
            0,
          ),
        }),
        streamStartS: round(streamStartS, 2),
        series: s.monitor.points,
      };
    },
    { env }, // read by podium and baseline (c); the others have no job locks
  );
}
