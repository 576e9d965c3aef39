import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeliveryMode } from '@podium/config';
import type { Order } from '@podium/orders';
import {
  ListenersProcess,
  PurchaseStream,
  SentinelTopology,
  waitFor,
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

export interface FailoverRun {
  system: string;
  mode: DeliveryMode;
  /** REDIS_WAIT_REPLICAS of both apps. */
  waitReplicas: number;
  rep: number;
  clients: number;
  /** The buying before the kill, through the run's own box office (REDIS_WAIT_REPLICAS = waitReplicas). */
  before: BuyingWindow;
  /**
   * The cost of WAIT, paired: before the kill the clients buy in turn from a box office with
   * REDIS_WAIT_REPLICAS=0 and one with 1, on the same Redis, listeners and machine load
   * (slices 0, 1, 1, 0), each setting's slices added up.
   */
  paired: { wait0: BuyingWindow; wait1: BuyingWindow };
  /** Seconds from the kill until the first purchase sent after it was answered 201. */
  recoverS: number;
  /** Seconds from the kill until every running Sentinel named the new primary. */
  promotedS: number;
  /** The longest time without any 201 answer around the kill, seconds. */
  outageS: number;
  /** Answers of the requests sent from the kill on, by outcome (201, 503, connection, deadline). */
  answersAfterKill: Record<string, number>;
  /** Purchases answered 201, in the run. */
  answered201: number;
  /** Orders on the new primary at the end. */
  recorded: number;
  /** Answered 201 but no order on the new primary. */
  lostRecorded: number;
  /** Answered 201 and not applied by the worst listener (the recorded ones and those not). */
  lostApplied: number;
  /** Recorded on the new primary, no 201 answered (a client stopped without its answer). */
  recordedUnanswered: number;
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

/** podium's own count of one listener (GET /listeners on the box office). */
async function listenerCounts(
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

/**
 * Failover: a primary, 2 replicas and 3 Sentinels (the test kit's SentinelTopology), both
 * compiled apps on it through REDIS_SENTINELS, clients buying over HTTP; after `beforeS`
 * the primary is killed (kill -9), the Sentinels promote a replica, and the clients buy on
 * for `afterS` after their first 201 since. Then every order answered 201 is looked for on
 * the new primary and in the listeners' effects. A fresh topology per run.
 */
export async function failoverRun(
  ctx: Ctx,
  system: SystemSpec,
  waitReplicas: number,
  rep: number,
): Promise<FailoverRun> {
  const { clients, beforeS, afterS, settleS, deadlineS } = ctx.plan.failover;
  const mode = system.mode ?? 'ephemeral';
  const { timings, lap } = stepTimer();
  const topology = await SentinelTopology.start();
  let listeners: ListenersProcess | undefined;
  let boxOffice: HttpServerProcess | undefined;
  let other: HttpServerProcess | undefined;
  let buyers: PurchaseStream | undefined;
  try {
    lap('topology');
    const env = {
      REDIS_URL: 'redis://127.0.0.1:1', // behind Sentinel only its credentials, database and TLS count
      REDIS_SENTINELS: topology.sentinelsEnv,
      REDIS_SENTINEL_NAME: topology.name,
      REDIS_WAIT_REPLICAS: String(waitReplicas),
      PURCHASE_RATE_LIMIT: '0',
      // As the HA tests: what a failover leaves to the outbox relay and to stalled jobs is finished within seconds.
      OUTBOX_GRACE_MS: '1000',
      QUEUE_LOCK_MS: '2000',
      QUEUE_STALLED_CHECK_MS: '1000',
      OPERATOR_USER: BENCH_OPERATOR.user,
      OPERATOR_PASSWORD: BENCH_OPERATOR.password,
    };
    listeners = await ListenersProcess.start(LISTENERS_MAIN, {
      ...env,
      NODE_OPTIONS: PODIUM_NODE_FLAGS.join(' '),
      DELIVERY: mode,
      LISTENERS: listenerNames('standard').join(','),
      ALERTS_MAX: String(BENCH_ALERTS_MAX),
    });
    // Two box offices, WAIT 0 and WAIT 1, for the paired cost of WAIT; the run's own one takes the kill.
    const offices = await Promise.all(
      [0, 1].map((w) =>
        HttpServerProcess.start(
          'box-office',
          { ...env, REDIS_WAIT_REPLICAS: String(w) },
          `${ctx.logDir}/failover-${mode}-w${waitReplicas}-r${rep}-box-office-wait${w}`,
        ),
      ),
    );
    boxOffice = offices[waitReplicas];
    other = offices[1 - waitReplicas];
    await createEvents(boxOffice.url);
    lap('apps');
    const accountBefore = await listenerCounts(boxOffice.url, 'sales-summary');

    const bought = new Map<string, Order>();
    const prefix = `f-${mode}-${waitReplicas}-${rep}`;
    const slice = async (w: number, seconds: number, tag: string) => {
      const slicers = purchaseClients(offices[w].url, {
        clients,
        keyPrefix: `${prefix}-${tag}`,
        deadlineMs: 5000,
        retryMs: 100,
      });
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
    // Warm both up (connections, JIT), then slices 0, 1, 1, 0, so that a drift of the machine's load hits both alike.
    await slice(0, 0.5, 'warm0');
    await slice(1, 0.5, 'warm1');
    const windows = [[], []] as { seconds: number; latencies: number[] }[][];
    for (const [i, w] of [0, 1, 1, 0].entries())
      windows[w].push(await slice(w, beforeS / 4, `s${i}`));
    const paired = windows.map((slices): BuyingWindow => {
      const seconds = slices.reduce((n, x) => n + x.seconds, 0);
      const latencies = slices.flatMap((x) => x.latencies);
      return {
        seconds: round(seconds, 2),
        purchasesPerSecond: round(latencies.length / seconds, 0),
        latency: rounded(percentiles(latencies)),
      };
    });
    await other.stop(2000);

    buyers = purchaseClients(boxOffice.url, {
      clients,
      keyPrefix: prefix,
      deadlineMs: 5000,
      retryMs: 100,
    });
    await sleep(500);
    const killed = await topology.killPrimary();
    const at = now();
    const primary = await topology.waitForNewPrimary(killed);
    const promotedAt = now();
    await waitFor(
      () => {
        if (buyers!.failed) throw buyers!.failed;
        return buyers!.firstSuccessSentAfter(at);
      },
      { what: 'a purchase answered 201 after the kill', timeoutMs: 30_000 },
    );
    const recoveredAt = buyers.firstSuccessSentAfter(at)!;
    await sleep(afterS * 1000);
    await buyers.stop();
    lap('buying');

    for (const [id, order] of boughtOrders(buyers)) bought.set(id, order);
    const answered = [...bought.values()];
    const client = primary.client();
    const expected = expectedCounts(
      answered,
      listenerNames('standard'),
      'standard',
    );
    // Until every effect of the answered orders is there, or nothing changed for settleS.
    let last = '';
    let lastChange = performance.now();
    const deadline = performance.now() + deadlineS * 1000;
    let complete = false;
    for (;;) {
      const applied = await appliedInRedis(client, 'standard');
      if (applied.every((n, i) => n >= expected[i])) {
        complete = true;
        break;
      }
      if (JSON.stringify(applied) !== last) {
        last = JSON.stringify(applied);
        lastChange = performance.now();
      }
      if (
        performance.now() > deadline ||
        performance.now() - lastChange > settleS * 1000
      )
        break;
      await sleep(100);
    }
    lap('drain');
    const recorded = await readOrders(client);
    const recordedIds = new Set(recorded.map((o) => o.orderId));
    const answeredIds = new Set(answered.map((o) => o.orderId));
    const unanswered: Order[] = recorded.filter(
      (o) => !answeredIds.has(o.orderId),
    );
    // Checked against the answered orders and any recorded without an answer, so neither shows as a stranger.
    const verification = await verify(
      client,
      [...answered, ...unanswered],
      'standard',
    );
    const account =
      accountBefore &&
      (await listenerCounts(boxOffice.url, 'sales-summary').then(
        (a) =>
          a && {
            announced: a.announced - accountBefore.announced,
            applied: a.applied - accountBefore.applied,
            lost: a.lost - accountBefore.lost,
          },
      ));
    lap('check');
    const outage = buyers.outage(at - 1000, { fromStart: true });
    return {
      system: system.id,
      mode,
      waitReplicas,
      rep,
      clients,
      before: paired[waitReplicas],
      paired: { wait0: paired[0], wait1: paired[1] },
      recoverS: round((recoveredAt - at) / 1000, 2),
      promotedS: round((promotedAt - at) / 1000, 2),
      outageS: round((outage.end - outage.start) / 1000, 2),
      answersAfterKill: buyers.outcomes(at),
      answered201: answered.length,
      recorded: recorded.length,
      lostRecorded: answered.filter((o) => !recordedIds.has(o.orderId)).length,
      lostApplied: verification.lost,
      recordedUnanswered: unanswered.length,
      ...(account && { account }),
      complete,
      verification,
      timingsS: timings,
    };
  } finally {
    await buyers?.stop().catch(() => undefined);
    await boxOffice?.stop(2000).catch(() => undefined);
    await other?.stop(2000).catch(() => undefined);
    if (listeners && !listeners.exited) await listeners.kill();
    await topology.destroy();
  }
}
