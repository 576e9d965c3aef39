import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { DeliveryMode } from '@podium/core';
import { invoicesKey, salesSetKey, type Order } from '@podium/orders';
import { DEFAULT_LIVENESS_TIMEOUT_MS } from '@podium/redis';
import {
  PrivateRedis,
  RedisEndpoint,
  type ListenersProcess,
  type PurchaseStream,
} from '@podium/testing';
import { now } from '../lib/driver.js';
import { HttpServerProcess } from '../lib/http-server.js';
import { counterTotal } from '../lib/metrics.js';
import { listenerNames, type SystemSpec } from '../lib/model.js';
import { expectedCounts } from '../lib/orders.js';
import { boughtOrders } from '../lib/purchase-clients.js';
import { appliedInRedis, type Verification } from '../lib/verify.js';
import { round, stepTimer, type Ctx } from './common.js';
import {
  accountSince,
  buyersOf,
  checkAnswered,
  drainEffects,
  HA_APPS_ENV,
  listenerCounts,
  PURCHASE_DEADLINE_MS,
  startListeners,
  type AnsweredFigures,
  type FailoverRun,
} from './failover.js';
import { createEvents } from './http.js';

/** Whose connections to Redis go silent: the listeners process's, or the box office's. */
export type CutSide = 'listeners' | 'box-office';

/** Connections a process dropped for silence and made again (connection-liveness.ts). */
export const REPLACED_METRIC = 'podium_redis_connections_replaced_total';

/**
 * Caught up: every order answered 201 at least this long before is applied, i.e. the
 * listeners are less than this far behind the box office again.
 */
export const CAUGHT_UP_LAG_MS = 1000;

/**
 * Caught up for good: still caught up this long after. Durable listeners can catch up with
 * the backlog on their replaced connections and fall behind again while one they need (a
 * worker's blocking read) is still silent.
 */
export const CAUGHT_UP_HOLD_S = 2;

/** How often the bench looks, from the cut until the process is back. */
const POLL_MS = 250;

export interface NetworkCutRun extends AnsweredFigures {
  system: string;
  mode: DeliveryMode;
  /** Whose connections were silenced (every one it had open through its proxy). */
  cut: CutSide;
  rep: number;
  clients: number;
  /** Purchases answered 201 per second from the cut until the cut app was back (or the deadline): what piled up meanwhile. */
  purchasesPerSecondInCut: number;
  /** Connections the proxy silenced. */
  silenced: number;
  /** REDIS_LIVENESS_TIMEOUT_MS of both apps (podium's default). */
  livenessTimeoutMs: number;
  /** Connections each process dropped and made again over the run (REPLACED_METRIC at the end). */
  replaced: { listeners?: number; boxOffice?: number };
  /** Seconds from the cut until the cut process's /metrics first counted a replaced connection (as the bench's polls saw it). */
  replacedS?: number;
  /** Listeners' cut: seconds from the cut until an order answered 201 after it was applied (undefined: not within the deadline). */
  resumedS?: number;
  /**
   * Listeners' cut, durable: seconds from the cut until every order answered 201
   * CAUGHT_UP_LAG_MS before was applied, and still CAUGHT_UP_HOLD_S later.
   */
  caughtUpS?: number;
  /** The first time it was so; before caughtUpS if the listeners fell behind again meanwhile. */
  firstCaughtUpS?: number;
  /** Box office's cut: seconds from the cut until the first purchase sent after it was answered 201. */
  recoverS?: number;
  /** The longest time without any 201 answer, from 1 s before the cut, seconds. */
  outageS: number;
  /** The longest a request waited, ms, and its client's deadline. */
  slowestMs: number;
  deadlineMs: number;
  /** Answers of the requests sent from the cut on, by outcome (201, 503, connection, deadline). */
  answersAfterCut: Record<string, number>;
  /** podium's own account of sales-summary (GET /listeners): announced, applied, lost over the run. */
  account?: FailoverRun['account'];
  /** Every effect of the answered orders applied before the drain's deadline. */
  complete: boolean;
  verification: Verification;
  timingsS: Record<string, number>;
}

/**
 * The orders among `orders` that sales-summary and customer-invoices have applied: the two
 * listeners whose keys name the orders (the sales:<event> and invoices:<who> sets).
 */
async function namedByEffects(
  client: Redis,
  orders: Order[],
): Promise<Set<string>> {
  const pipeline = client.pipeline();
  for (const o of orders) {
    pipeline.sismember(salesSetKey(o.event), o.orderId);
    pipeline.sismember(invoicesKey(o.who), o.orderId);
  }
  const replies = ((await pipeline.exec()) ?? []).map(([, value]) => value);
  return new Set(
    orders
      .filter((_, i) => replies[2 * i] === 1 && replies[2 * i + 1] === 1)
      .map((o) => o.orderId),
  );
}

/** Orders looked for at once, the oldest first, until a look finds one not applied. */
const OLDEST_CHUNK = 500;
/** The newest orders looked for on each poll besides. */
const NEWEST = 50;

/**
 * Which orders answered 201 the listeners have applied, while the clients buy on. Each poll
 * notes how many orders were answered by then (the stream keeps them in the order of their
 * 201s) and looks for the ones not yet seen applied: the oldest first, a chunk at a time,
 * until a chunk holds one not applied (so a poll costs Redis little during a catch-up),
 * and the newest (ephemeral listeners never apply what they missed: the oldest stay). The
 * counters of the listeners whose keys do not name orders are compared with what the
 * orders should make them.
 */
class AppliedWatch {
  private readonly polls: { at: number; answered: number }[] = [];
  /** Answered orders not yet seen applied, with their place in the order of answers, the oldest first. */
  private readonly pending = new Map<string, { order: Order; index: number }>();
  private orders: Order[] = [];
  /** The latest place, in the order of answers, of an order seen applied. */
  lastApplied = -1;

  constructor(
    private readonly client: Redis,
    private readonly buyers: PurchaseStream,
  ) {}

  async poll(): Promise<void> {
    const at = now();
    this.orders = boughtOrders(this.buyers).map(([, order]) => order);
    for (let i = this.polls.at(-1)?.answered ?? 0; i < this.orders.length; i++)
      this.pending.set(this.orders[i].orderId, {
        order: this.orders[i],
        index: i,
      });
    this.polls.push({ at, answered: this.orders.length });
    for (;;) {
      const oldest = [...this.pending.values()].slice(0, OLDEST_CHUNK);
      if (!oldest.length || !(await this.look(oldest))) break;
    }
    await this.look([...this.pending.values()].slice(-NEWEST));
  }

  /** Looks for `entries` in the effects, forgets those applied; true if all were. */
  private async look(
    entries: { order: Order; index: number }[],
  ): Promise<boolean> {
    if (!entries.length) return true;
    const applied = await namedByEffects(
      this.client,
      entries.map((e) => e.order),
    );
    for (const { order, index } of entries)
      if (applied.has(order.orderId)) {
        this.pending.delete(order.orderId);
        this.lastApplied = Math.max(this.lastApplied, index);
      }
    return applied.size === entries.length;
  }

  /** The last poll at or before `t`. */
  pollBy(t: number): { at: number; answered: number } | undefined {
    return this.polls.findLast((p) => p.at <= t);
  }

  /** The first poll at or after `t`. */
  pollFrom(t: number): { at: number; answered: number } | undefined {
    return this.polls.find((p) => p.at >= t);
  }

  /**
   * Whether the first `count` orders answered are all applied: by id where the keys name
   * them (an order not looked for yet comes after one seen not applied), by count for
   * every listener.
   */
  async allApplied(count: number): Promise<boolean> {
    for (const { index } of this.pending.values())
      if (index < count) return false;
    const expected = expectedCounts(
      this.orders.slice(0, count),
      listenerNames('standard'),
      'standard',
    );
    const applied = await appliedInRedis(this.client, 'standard');
    return applied.every((n, i) => n >= expected[i]);
  }
}

/** Calls `look` from the cut every POLL_MS until it says the process is back, at most deadlineS after the cut. */
async function untilBack(
  at: number,
  deadlineS: number,
  buyers: PurchaseStream,
  look: () => Promise<boolean>,
): Promise<void> {
  while (now() - at < deadlineS * 1000) {
    if (buyers.failed) throw buyers.failed;
    if (await look()) return;
    await sleep(POLL_MS);
  }
}

/**
 * The listeners' cut, the clients buying on: until the listeners are back (durable: caught
 * up, and still CAUGHT_UP_HOLD_S later; ephemeral: applying orders answered after the cut;
 * what was announced meanwhile is lost to them). An order answered POLL_MS after the cut
 * or later cannot have been applied before it, so only those count as applied after it.
 */
async function watchListenersCut(
  client: Redis,
  buyers: PurchaseStream,
  listeners: ListenersProcess,
  {
    at,
    mode,
    deadlineS,
  }: { at: number; mode: DeliveryMode; deadlineS: number },
): Promise<
  Pick<NetworkCutRun, 'replacedS' | 'resumedS' | 'caughtUpS' | 'firstCaughtUpS'>
> {
  const seen: Pick<
    NetworkCutRun,
    'replacedS' | 'resumedS' | 'caughtUpS' | 'firstCaughtUpS'
  > = {};
  const seconds = (t: number) => round((t - at) / 1000, 2);
  const watch = new AppliedWatch(client, buyers);
  const afterCut = at + POLL_MS;
  /** Since when the listeners are caught up, if they are. */
  let caughtUpAt: number | undefined;
  await untilBack(at, deadlineS, buyers, async () => {
    await watch.poll();
    const t = now();
    if (seen.replacedS === undefined)
      if (((await counterTotal(listeners.healthUrl, REPLACED_METRIC)) ?? 0) > 0)
        seen.replacedS = seconds(t);
    const mark = watch.pollFrom(afterCut);
    if (
      seen.resumedS === undefined &&
      mark &&
      watch.lastApplied >= mark.answered
    )
      seen.resumedS = seconds(t);
    if (mode !== 'durable') return seen.resumedS !== undefined;
    const window = watch.pollBy(t - CAUGHT_UP_LAG_MS);
    if (!window || window.at < afterCut) return false;
    if (await watch.allApplied(window.answered)) {
      caughtUpAt ??= t;
      seen.firstCaughtUpS ??= seconds(t);
    } else caughtUpAt = undefined; // behind (again)
    if (caughtUpAt === undefined || t - caughtUpAt < CAUGHT_UP_HOLD_S * 1000)
      return false;
    seen.caughtUpS = seconds(caughtUpAt);
    return true;
  });
  return seen;
}

/** The box office's cut, the clients buying on: until a purchase sent after it is answered 201. */
async function watchBoxOfficeCut(
  buyers: PurchaseStream,
  boxOffice: HttpServerProcess,
  { at, deadlineS }: { at: number; deadlineS: number },
): Promise<Pick<NetworkCutRun, 'replacedS' | 'recoverS'>> {
  let replacedS: number | undefined;
  await untilBack(at, deadlineS, buyers, async () => {
    // Its /metrics may wait for Redis too: a second at most.
    if (
      replacedS === undefined &&
      ((await counterTotal(boxOffice.url, REPLACED_METRIC)) ?? 0) > 0
    )
      replacedS = round((now() - at) / 1000, 2);
    return buyers.firstSuccessSentAfter(at) !== undefined;
  });
  const recoveredAt = buyers.firstSuccessSentAfter(at);
  return {
    ...(replacedS !== undefined && { replacedS }),
    ...(recoveredAt !== undefined && {
      recoverS: round((recoveredAt - at) / 1000, 2),
    }),
  };
}

/**
 * A silent network cut: one Redis; the listeners process, or the box office, reaches it
 * through a proxy of its own (the test kit's RedisEndpoint), the other app directly. The
 * clients buy a steady stream; the bench silences the proxy mid-stream (every connection
 * open through it stops carrying bytes, without FIN or RST, as a NAT or a load balancer
 * that forgot them; new connections pass), and the clients buy on until the cut process
 * is back (podium replaces a connection silent for REDIS_LIVENESS_TIMEOUT_MS, 8 s by
 * default), then `afterS` more. Then every order answered 201 is looked for in Redis and in
 * the listeners' effects, as in the failover runs.
 */
export async function networkCutRun(
  ctx: Ctx,
  system: SystemSpec,
  cut: CutSide,
  rep: number,
): Promise<NetworkCutRun> {
  const { clients, rate, beforeS, afterS, deadlineS } = ctx.plan.failover.cut;
  const { settleS, deadlineS: drainDeadlineS } = ctx.plan.failover;
  const mode = system.mode ?? 'ephemeral';
  const { timings, lap } = stepTimer();
  const redis = await PrivateRedis.start();
  let endpoint: RedisEndpoint | undefined;
  let listeners: ListenersProcess | undefined;
  let boxOffice: HttpServerProcess | undefined;
  let buyers: PurchaseStream | undefined;
  try {
    endpoint = await RedisEndpoint.start(redis);
    lap('redis');
    // One Redis, no replica: what the cut costs, not what a failover does.
    const env = {
      ...HA_APPS_ENV,
      REDIS_URL: redis.url,
      REDIS_WAIT_REPLICAS: '0',
    };
    const behindProxy = (side: CutSide) =>
      side === cut ? { REDIS_URL: endpoint!.url } : {};
    listeners = await startListeners(
      { ...env, ...behindProxy('listeners') },
      mode,
    );
    boxOffice = await HttpServerProcess.start(
      'box-office',
      { ...env, ...behindProxy('box-office') },
      `${ctx.logDir}/cut-${cut}-${mode}-r${rep}-box-office`,
    );
    await createEvents(boxOffice.url);
    lap('apps');
    const accountBefore = await listenerCounts(boxOffice.url, 'sales-summary');

    const client = redis.client();
    buyers = buyersOf(
      boxOffice.url,
      clients,
      `cut-${cut}-${mode}-${rep}`,
      (clients * 1000) / rate,
    );
    await sleep(beforeS * 1000);
    const silenced = endpoint.silence();
    const at = now();
    const seen =
      cut === 'listeners'
        ? await watchListenersCut(client, buyers, listeners, {
            at,
            mode,
            deadlineS,
          })
        : await watchBoxOfficeCut(buyers, boxOffice, { at, deadlineS });
    const backAt = now();
    await sleep(afterS * 1000);
    await buyers.stop();
    lap('buying');

    const answered = boughtOrders(buyers).map(([, order]) => order);
    // A durable worker may still wait on a connection left silent (its blocking read) until
    // podium replaces it: durable listeners get the liveness timeout to show progress.
    const complete = await drainEffects(client, answered, {
      settleS:
        mode === 'durable'
          ? Math.max(settleS, DEFAULT_LIVENESS_TIMEOUT_MS / 1000 + 2)
          : settleS,
      deadlineS: drainDeadlineS,
    });
    lap('drain');
    const { figures, verification } = await checkAnswered(client, answered);
    const account = await accountSince(boxOffice.url, accountBefore);
    const replaced = {
      listeners: await counterTotal(listeners.healthUrl, REPLACED_METRIC, 5000),
      boxOffice: await counterTotal(boxOffice.url, REPLACED_METRIC, 5000),
    };
    lap('check');
    const outage = buyers.outage(at - 1000, { fromStart: true });
    return {
      system: system.id,
      mode,
      cut,
      rep,
      clients,
      purchasesPerSecondInCut: round(
        buyers.successesBetween(at, backAt).length / ((backAt - at) / 1000),
        0,
      ),
      silenced,
      livenessTimeoutMs: DEFAULT_LIVENESS_TIMEOUT_MS,
      replaced,
      ...seen,
      outageS: round((outage.end - outage.start) / 1000, 2),
      slowestMs: Math.round(buyers.slowestMs),
      deadlineMs: PURCHASE_DEADLINE_MS,
      answersAfterCut: buyers.outcomes(at),
      ...figures,
      ...(account && { account }),
      complete,
      verification,
      timingsS: timings,
    };
  } finally {
    await buyers?.stop().catch(() => undefined);
    await boxOffice?.stop(2000).catch(() => undefined);
    if (listeners && !listeners.exited) await listeners.kill();
    await endpoint?.close();
    await redis.destroy();
  }
}
