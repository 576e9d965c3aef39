import type { Plan } from '../../lib/plan.js';
import {
  CAUGHT_UP_HOLD_S,
  CAUGHT_UP_LAG_MS,
  type NetworkCutRun,
} from '../../scenarios/network-cut.js';
import { accountText, answersText, type Doc, table } from '../markdown.js';
import { fmt } from '../svg.js';

type CutPlan = Plan['failover']['cut'];

/** 7's silent network cuts: the listeners' connections, then the box office's, silenced by a proxy. */
export function renderNetworkCuts(
  doc: Doc,
  plan: Plan,
  cuts: NetworkCutRun[],
): void {
  const c = plan.failover.cut;
  const liveness = fmt(cuts[0].livenessTimeoutMs / 1000);
  doc.paragraph('### Silent network cuts');
  doc.paragraph(
    "One redis-server (no replica), both compiled apps on it in the mode given, with the settings above and `REDIS_WAIT_REPLICAS=0`; the cut app reaches Redis through a TCP proxy of its own (the test kit's `RedisEndpoint`), the other directly. " +
      `${c.clients} clients buy steadily, paced to ${fmt(c.rate)} purchases/s together (a stream the machine carries with room to spare, the same whatever its load, so that what piles up during a cut is alike from run to run); after ${fmt(c.beforeS)} s the bench silences the proxy: every connection open through it stops carrying bytes both ways, without FIN or RST, as a NAT, a load balancer or a cloud network does when it forgets them; new connections pass. ` +
      `podium drops a connection that answered nothing, a heartbeat PING sent, for \`REDIS_LIVENESS_TIMEOUT_MS\` (podium's default, ${liveness} s, here) and makes it again. ` +
      `The clients buy on until the cut app is back (the bench looks every 0.25 s, at most ${fmt(c.deadlineS)} s), then ${fmt(c.afterS)} s more; then the checks as above, against the orders in Redis. ` +
      '"Replaced": `podium_redis_connections_replaced_total` in each app\'s `/metrics` at the end (the cut app first); "seen after": when the bench\'s poll of the cut app\'s `/metrics` first counted one.',
  );
  const listenersCuts = cuts.filter((r) => r.cut === 'listeners');
  if (listenersCuts.length) {
    doc.paragraph("**The listeners' network cut**:");
    doc.paragraph(listenersCutTable(listenersCuts, c));
    doc.paragraph(
      '"Applying again": from the cut until an order answered 201 at least 0.25 s after it (so not applied before it) is in the effects. ' +
        `"Caught up" (durable): from the cut until every order answered 201 at least ${fmt(CAUGHT_UP_LAG_MS / 1000)} s before is applied (the sales-summary and customer-invoices sets name it, and every listener's counters reach what the answered orders make them): the listeners are less than that behind the box office again, and still ${fmt(CAUGHT_UP_HOLD_S)} s later (they can catch up with the backlog and fall behind again while a connection they need is still silent: the first time is then given too). ` +
        'After the reconnect the durable listeners catch up what piled up meanwhile (about the 201s/s column × the seconds until replaced), in the jobs the box office queued then, each holding the few purchases of one tick. ' +
        'Ephemeral listeners lose what is announced while their subscriber is silent, and podium counts it (`GET /listeners`); durable ones get their jobs from the box office.',
    );
  }
  const boxOfficeCuts = cuts.filter((r) => r.cut === 'box-office');
  if (boxOfficeCuts.length) {
    doc.paragraph("**The box office's network cut**:");
    doc.paragraph(boxOfficeCutTable(boxOfficeCuts, c));
    doc.paragraph(
      '"201 again": from the cut until the first purchase sent after it is answered 201. A request the box office has not answered by its client\'s deadline counts as "deadline" (its client gives up on it and repeats the purchase with its Idempotency-Key): the slowest request reaching the deadline means a request waited on a silent connection. ' +
        '"201s not in Redis": answered 201 but no order hash: lost.',
    );
  }
}

/** Seconds from the cut, or that it did not happen before the deadline. */
const within = (c: CutPlan, s: number | undefined) =>
  s === undefined ? `not within ${fmt(c.deadlineS)} s` : fmt(s);

/** The first columns of both cuts' tables. */
const common = (r: NetworkCutRun) => [
  r.system,
  r.clients,
  fmt(r.answered201),
  fmt(r.purchasesPerSecondInCut),
  r.silenced,
];

function listenersCutTable(runs: NetworkCutRun[], c: CutPlan): string {
  // Caught up, and when first if the listeners fell behind again meanwhile.
  const caughtUpText = (r: NetworkCutRun) =>
    r.firstCaughtUpS !== undefined && r.firstCaughtUpS !== r.caughtUpS
      ? `${within(c, r.caughtUpS)} (first ${fmt(r.firstCaughtUpS)}, then behind again)`
      : within(c, r.caughtUpS);
  return table(
    [
      'mode',
      'clients',
      '201s',
      '201s/s from the cut until back',
      'connections silenced',
      'replaced: listeners / box office',
      'replaced seen after s',
      'applying again after s',
      'every 201 applied (caught up) after s',
      'longest gap without a 201 s',
      '201s not in Redis',
      '201s not applied (worst listener)',
      'podium: announced / applied / lost (sales-summary)',
      'double',
      'all applied',
    ],
    runs.map((r) => [
      ...common(r),
      `${r.replaced.listeners ?? '?'} / ${r.replaced.boxOffice ?? '?'}`,
      within(c, r.replacedS),
      within(c, r.resumedS),
      r.mode === 'durable' ? caughtUpText(r) : '–',
      fmt(r.outageS),
      r.lostRecorded,
      r.lostApplied,
      accountText(r.account),
      r.verification.double,
      r.complete ? 'yes' : 'no',
    ]),
  );
}

function boxOfficeCutTable(runs: NetworkCutRun[], c: CutPlan): string {
  return table(
    [
      'mode',
      'clients',
      '201s',
      '201s/s from the cut until back',
      'connections silenced',
      'replaced: box office / listeners',
      'replaced seen after s',
      '201 again after s',
      'longest gap without a 201 s',
      'slowest request ms (deadline)',
      'answers sent after the cut',
      '201s not in Redis',
      '201s not applied (worst listener)',
      'double',
    ],
    runs.map((r) => [
      ...common(r),
      `${r.replaced.boxOffice ?? '?'} / ${r.replaced.listeners ?? '?'}`,
      within(c, r.replacedS),
      within(c, r.recoverS),
      fmt(r.outageS),
      `${fmt(r.slowestMs)} (${fmt(r.deadlineMs)})`,
      answersText(r.answersAfterCut),
      r.lostRecorded,
      r.lostApplied,
      r.verification.double,
    ]),
  );
}
