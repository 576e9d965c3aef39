import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeliveryMode } from '@podium/core';
import type { Order } from '@podium/orders';
import type { Redis } from 'ioredis';
import {
  ListenersProcess,
  PurchaseStream,
  SentinelTopology,
  waitFor,
  type PrivateRedis,
} from '@podium/testing';
import { now } from '../lib/driver.js';
import { BENCH_OPERATOR, HttpServerProcess } from '../lib/http-server.js';
import {
  BENCH_ALERTS_MAX,
  listenerNames,
  PODIUM_NODE_FLAGS,
  type SystemSpec,
} from '../lib/model.js';
import { expectedCounts } from '../lib/orders.js';
import { boughtOrders, purchaseClients } from '../lib/purchase-clients.js';
import { readOrders } from '../lib/server.js';
import { percentiles, type Percentiles } from '../lib/stats.js';
import { appliedInRedis, verify, type Verification } from '../lib/verify.js';
import { createEvents } from './http.js';
import { rounded } from './latency.js';
import { round, stepTimer, type Ctx } from './common.js';

/** What moves the primary: kill -9 of it, or a planned SENTINEL FAILOVER. */
export type FailoverTrigger = 'kill' | 'planned';

export interface FailoverRun extends AnsweredFigures {
  system: string;
  mode: DeliveryMode;
  /** kill -9 of the primary, or SENTINEL FAILOVER (absent from runs made before planned ones: kill). */
  trigger: FailoverTrigger;
  /** REDIS_WAIT_REPLICAS of both apps. */
  waitReplicas: number;
  rep: number;
  clients: number;
  /**
   * The buying before the trigger, through the run's own box office (REDIS_WAIT_REPLICAS =
   * waitReplicas): a kill run's slices of its setting, a planned run's plannedBeforeS.
   */
  before: BuyingWindow;
  /**
   * Kill runs: the cost of WAIT, paired: before the kill the clients buy in turn from a box
   * office with REDIS_WAIT_REPLICAS=0 and one with 1, on the same Redis, listeners and
   * machine load (slices 0, 1, 1, 0), each setting's slices added up.
   */
  paired?: { wait0: BuyingWindow; wait1: BuyingWindow };
  /**
   * Seconds from the trigger until the first purchase sent after it was answered 201; after
   * a planned failover, sent after the first purchase refused since it (the box office sells
   * on until a Sentinel's first failover event, a few ms: those 201s do not show the fence).
   */
  recoverS: number;
  /** Seconds from the trigger until every running Sentinel named the new primary. */
  promotedS: number;
  /** The longest time without any 201 answer around the trigger, seconds. */
  outageS: number;
  /** Answers of the requests sent from the trigger on (the kill, or SENTINEL FAILOVER), by outcome (201, 503, connection, deadline). */
  answersAfterKill: Record<string, number>;
  /** podium's own account of sales-summary (GET /listeners): announced, applied, lost (not applied, or queued: not enqueued) over the run. */
  account?: { announced: number; applied: number; lost: number };
  /** Every effect of the answered orders applied before the deadline. */
  complete: boolean;
  verification: Verification;
  timingsS: Record<string, number>;
}

export interface BuyingWindow {
  seconds: number;
  purchasesPerSecond: number;
  /** Response time of the 201 answers, ms. */
  latency: Percentiles;
}

const LISTENERS_MAIN = fileURLToPath(
  new URL('../../apps/listeners/src/main.js', import.meta.url),
);

/** A purchase not answered within this long is given up by its client (and sent again with its key). */
export const PURCHASE_DEADLINE_MS = 5000;

/**
 * What both apps get besides their Redis, as the HA tests run them: what a failover leaves
 * to the outbox relay and to stalled jobs is finished within seconds.
 */
export const HA_APPS_ENV = {
  PURCHASE_RATE_LIMIT: '0',
  OUTBOX_GRACE_MS: '1000',
  QUEUE_LOCK_MS: '2000',
  QUEUE_STALLED_CHECK_MS: '1000',
  OPERATOR_USER: BENCH_OPERATOR.user,
  OPERATOR_PASSWORD: BENCH_OPERATOR.password,
};

/** The compiled listeners app with the seed's five listeners in `mode`, on `env`'s Redis. */
export function startListeners(
  env: Record<string, string>,
  mode: DeliveryMode,
): Promise<ListenersProcess> {
  return ListenersProcess.start(LISTENERS_MAIN, {
    ...env,
    NODE_OPTIONS: PODIUM_NODE_FLAGS.join(' '),
    DELIVERY: mode,
    LISTENERS: listenerNames('standard').join(','),
    ALERTS_MAX: String(BENCH_ALERTS_MAX),
  });
}

/**
 * The failover scenario's clients on one box office (its purchase client's deadline, a
 * retry 100 ms after a 503), each buying as fast as it is answered, or at most every paceMs.
 */
export function buyersOf(
  url: string,
  clients: number,
  keyPrefix: string,
  paceMs?: number,
): PurchaseStream {
  return purchaseClients(url, {
    clients,
    keyPrefix,
    deadlineMs: PURCHASE_DEADLINE_MS,
    retryMs: 100,
    ...(paceMs !== undefined && { paceMs }),
  });
}

/** podium's own count of one listener (GET /listeners on the box office). */
export async function listenerCounts(
  url: string,
  name: string,
): Promise<{ announced: number; applied: number; lost: number } | undefined> {
  const res = await fetch(`${url}/listeners`).catch(() => undefined);
  if (res?.status !== 200) return undefined;
  type Status = { name: string; counts: Record<string, number>; lost: number };
  const status = ((await res.json()) as Status[]).find((l) => l.name === name);
  return status
    ? {
        announced: status.counts.announced ?? 0,
        applied: status.counts.applied ?? 0,
        lost: status.lost ?? 0,
      }
    : undefined;
}

/** podium's account of sales-summary since `before` (a run's own: the listener's counters are cumulative). */
export async function accountSince(
  url: string,
  before: FailoverRun['account'],
): Promise<FailoverRun['account']> {
  const after = before && (await listenerCounts(url, 'sales-summary'));
  return (
    after && {
      announced: after.announced - before.announced,
      applied: after.applied - before.applied,
      lost: after.lost - before.lost,
    }
  );
}

/** A buying window's figures from its seconds and the response times of its 201 answers. */
function buyingWindow(seconds: number, latencies: number[]): BuyingWindow {
  return {
    seconds: round(seconds, 2),
    purchasesPerSecond: round(latencies.length / seconds, 0),
    latency: rounded(percentiles(latencies)),
  };
}

/**
 * Waits until every effect of the answered orders is in Redis, or nothing changed for
 * settleS, at most deadlineS; true if every effect is there.
 */
export async function drainEffects(
  client: Redis,
  answered: readonly Order[],
  { settleS, deadlineS }: { settleS: number; deadlineS: number },
): Promise<boolean> {
  const expected = expectedCounts(
    answered,
    listenerNames('standard'),
    'standard',
  );
  let last = '';
  let lastChange = performance.now();
  const deadline = performance.now() + deadlineS * 1000;
  for (;;) {
    const applied = await appliedInRedis(client, 'standard');
    if (applied.every((n, i) => n >= expected[i])) return true;
    if (JSON.stringify(applied) !== last) {
      last = JSON.stringify(applied);
      lastChange = performance.now();
    }
    if (
      performance.now() > deadline ||
      performance.now() - lastChange > settleS * 1000
    )
      return false;
    await sleep(100);
  }
}

/** What a run's answered orders came to, as every run reports it. */
export interface AnsweredFigures {
  /** Purchases answered 201, in the run. */
  answered201: number;
  /** Orders in Redis at the end. */
  recorded: number;
  /** Answered 201 but no order in Redis. */
  lostRecorded: number;
  /** Answered 201 and not applied by the worst listener (the recorded ones and those not). */
  lostApplied: number;
  /** Recorded, no 201 answered (a client stopped without its answer). */
  recordedUnanswered: number;
}

/** What the run's answered orders came to on `client`'s Redis: every order it holds, those no 201 named, and the checks. */
export async function checkAnswered(
  client: Redis,
  answered: Order[],
): Promise<{
  figures: AnsweredFigures;
  verification: Verification;
}> {
  const recorded = await readOrders(client);
  const answeredIds = new Set(answered.map((o) => o.orderId));
  const unanswered = recorded.filter((o) => !answeredIds.has(o.orderId));
  // Checked against the answered orders and any recorded without an answer, so neither shows as a stranger.
  const verification = await verify(
    client,
    [...answered, ...unanswered],
    'standard',
  );
  const recordedIds = new Set(recorded.map((o) => o.orderId));
  return {
    figures: {
      answered201: answered.length,
      recorded: recordedIds.size,
      lostRecorded: answered.filter((o) => !recordedIds.has(o.orderId)).length,
      lostApplied: verification.lost,
      recordedUnanswered: unanswered.length,
    },
    verification,
  };
}

/**
 * The cost of WAIT, paired: the clients buy from the WAIT 0 box office, then the WAIT 1 one,
 * in slices 0, 1, 1, 0 (after 0.5 s on each to warm up: connections, JIT), so that a drift
 * of the machine's load hits both alike. Every order answered goes into `bought`.
 */
async function pairedCostOfWait(
  urls: [string, string],
  { clients, beforeS }: { clients: number; beforeS: number },
  prefix: string,
  bought: Map<string, Order>,
): Promise<{ wait0: BuyingWindow; wait1: BuyingWindow }> {
  const slice = async (w: number, seconds: number, tag: string) => {
    const slicers = buyersOf(urls[w], clients, `${prefix}-${tag}`);
    const start = now();
    await sleep(seconds * 1000);
    const end = now();
    await slicers.stop();
    for (const [id, order] of boughtOrders(slicers)) bought.set(id, order);
    return {
      seconds: (end - start) / 1000,
      latencies: slicers
        .successesBetween(start, end)
        .map((a) => a.answeredAt - a.sentAt),
    };
  };
  await slice(0, 0.5, 'warm0');
  await slice(1, 0.5, 'warm1');
  const windows = [[], []] as { seconds: number; latencies: number[] }[][];
  for (const [i, w] of [0, 1, 1, 0].entries())
    windows[w].push(await slice(w, beforeS / 4, `s${i}`));
  const [wait0, wait1] = windows.map((slices) =>
    buyingWindow(
      slices.reduce((n, x) => n + x.seconds, 0),
      slices.flatMap((x) => x.latencies),
    ),
  );
  return { wait0, wait1 };
}

/** When the first purchase sent from `at` on was refused (answered other than 201). */
function firstRefusedAfter(
  stream: PurchaseStream,
  at: number,
): number | undefined {
  return stream.attempts.find((a) => a.sentAt >= at && a.outcome !== 201)
    ?.answeredAt;
}

/**
 * Moves the primary: kill -9 of it (the moment is when it is dead), or SENTINEL FAILOVER
 * (the moment is when it is asked for, as in test/sentinel-failover.e2e-spec.ts). Returns
 * the old primary and the moment.
 */
async function pullTrigger(
  topology: SentinelTopology,
  trigger: FailoverTrigger,
): Promise<{ old: PrivateRedis; at: number }> {
  if (trigger === 'kill') {
    const old = await topology.killPrimary();
    return { old, at: now() };
  }
  const at = now();
  return { old: await topology.failover(), at };
}

/**
 * Failover: a primary, 2 replicas and 3 Sentinels (the test kit's SentinelTopology), both
 * compiled apps on it through REDIS_SENTINELS, clients buying over HTTP; then the trigger:
 * the primary killed (kill -9), or a planned SENTINEL FAILOVER; the Sentinels promote a
 * replica, and the clients buy on for `afterS` after their first 201 since. Then every
 * order answered 201 is looked for on the new primary and in the listeners' effects. A
 * fresh topology per run. Kill runs first measure the paired cost of WAIT; planned runs
 * buy plannedBeforeS from their own box office only.
 */
export async function failoverRun(
  ctx: Ctx,
  system: SystemSpec,
  waitReplicas: number,
  trigger: FailoverTrigger,
  rep: number,
): Promise<FailoverRun> {
  const { clients, beforeS, plannedBeforeS, afterS, settleS, deadlineS } =
    ctx.plan.failover;
  const mode = system.mode ?? 'ephemeral';
  const { timings, lap } = stepTimer();
  const topology = await SentinelTopology.start();
  let listeners: ListenersProcess | undefined;
  const offices: HttpServerProcess[] = [];
  let buyers: PurchaseStream | undefined;
  try {
    lap('topology');
    const env = {
      ...HA_APPS_ENV,
      REDIS_URL: 'redis://127.0.0.1:1', // behind Sentinel only its credentials, database and TLS count
      REDIS_SENTINELS: topology.sentinelsEnv,
      REDIS_SENTINEL_NAME: topology.name,
      REDIS_WAIT_REPLICAS: String(waitReplicas),
    };
    listeners = await startListeners(env, mode);
    // A kill run has a box office of each WAIT setting, for the paired cost of WAIT; a planned
    // run only its own. The run's own one takes the trigger.
    const settings = trigger === 'kill' ? [0, 1] : [waitReplicas];
    offices.push(
      ...(await Promise.all(
        settings.map((w) =>
          HttpServerProcess.start(
            'box-office',
            { ...env, REDIS_WAIT_REPLICAS: String(w) },
            `${ctx.logDir}/failover-${trigger}-${mode}-w${waitReplicas}-r${rep}-box-office-wait${w}`,
          ),
        ),
      )),
    );
    const boxOffice = offices[settings.indexOf(waitReplicas)];
    await createEvents(boxOffice.url);
    lap('apps');
    const accountBefore = await listenerCounts(boxOffice.url, 'sales-summary');

    const bought = new Map<string, Order>();
    const prefix = `f-${trigger}-${mode}-${waitReplicas}-${rep}`;
    const paired =
      trigger === 'kill'
        ? await pairedCostOfWait(
            [offices[0].url, offices[1].url],
            { clients, beforeS },
            prefix,
            bought,
          )
        : undefined;
    for (const other of offices.filter((o) => o !== boxOffice))
      await other.stop(2000);

    buyers = buyersOf(boxOffice.url, clients, prefix);
    const buyingFrom = now();
    await sleep(500 + (trigger === 'planned' ? plannedBeforeS * 1000 : 0));
    const { old, at } = await pullTrigger(topology, trigger);
    const primary = await topology.waitForNewPrimary(old);
    const promotedAt = now();
    // Sentinel would make a planned failover's old primary a replica only 8 to 20 s later; done
    // now, as the Sentinel test does, so that its clients move and what it took meanwhile is dropped.
    if (trigger === 'planned') await topology.rejoin(old);
    const from = () =>
      (trigger === 'planned' && firstRefusedAfter(buyers!, at)) || at;
    await waitFor(
      () => {
        if (buyers!.failed) throw buyers!.failed;
        return buyers!.firstSuccessSentAfter(from());
      },
      { what: 'a purchase answered 201 after the trigger', timeoutMs: 30_000 },
    );
    const recoveredAt = buyers.firstSuccessSentAfter(from())!;
    await sleep(afterS * 1000);
    await buyers.stop();
    lap('buying');

    for (const [id, order] of boughtOrders(buyers)) bought.set(id, order);
    const answered = [...bought.values()];
    const client = primary.client();
    const complete = await drainEffects(client, answered, {
      settleS,
      deadlineS,
    });
    lap('drain');
    const { figures, verification } = await checkAnswered(client, answered);
    const account = await accountSince(boxOffice.url, accountBefore);
    lap('check');
    const outage = buyers.outage(at - 1000, { fromStart: true });
    // A planned run's own window: from the end of its 0.5 s warm-up to the trigger.
    const before =
      paired?.[waitReplicas === 0 ? 'wait0' : 'wait1'] ??
      buyingWindow(
        (at - buyingFrom - 500) / 1000,
        buyers
          .successesBetween(buyingFrom + 500, at)
          .map((a) => a.answeredAt - a.sentAt),
      );
    return {
      system: system.id,
      mode,
      trigger,
      waitReplicas,
      rep,
      clients,
      before,
      ...(paired && { paired }),
      recoverS: round((recoveredAt - at) / 1000, 2),
      promotedS: round((promotedAt - at) / 1000, 2),
      outageS: round((outage.end - outage.start) / 1000, 2),
      answersAfterKill: buyers.outcomes(at),
      ...figures,
      ...(account && { account }),
      complete,
      verification,
      timingsS: timings,
    };
  } finally {
    await buyers?.stop().catch(() => undefined);
    for (const office of offices)
      await office.stop(2000).catch(() => undefined);
    if (listeners && !listeners.exited) await listeners.kill();
    await topology.destroy();
  }
}
