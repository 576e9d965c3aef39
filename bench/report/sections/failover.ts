import type { Plan } from '../../lib/plan.js';
import { accountText, answersText, type Doc, table } from '../markdown.js';
import type { Results } from '../results.js';
import { failoverSummary, ms, triggerOf, TRIGGER_NAME } from '../summaries.js';
import { fmt } from '../svg.js';
import { renderNetworkCuts } from './network-cuts.js';

type FailoverSummary = ReturnType<typeof failoverSummary>;
type FailoverGroup = FailoverSummary['groups'][number];

/** 7. Failover of the Sentinel primary (kill -9, planned), and the silent network cuts. */
export function renderFailover(doc: Doc, results: Results): void {
  const failover = failoverSummary(results);
  const cuts = results.networkCut ?? [];
  if (failover.runs.length || cuts.length)
    doc.paragraph(
      `## 7. Failover (Redis Sentinel: ${failover.planned.length ? 'kill -9 and planned failover' : 'kill -9'} of the primary)${cuts.length ? ' and silent network cuts' : ''}`,
    );
  if (failover.runs.length)
    renderSentinelFailover(doc, results.meta.plan, failover);
  if (cuts.length) renderNetworkCuts(doc, results.meta.plan, cuts);
}

function renderSentinelFailover(
  doc: Doc,
  plan: Plan,
  failover: FailoverSummary,
): void {
  doc.paragraph(sentinelSetup(plan, failover));
  doc.paragraph(recoverSummary(failover));
  doc.paragraph(failoverRunsTable(failover));
  if (failover.kills.length && failover.planned.length) {
    doc.paragraph(
      '**kill -9 and planned failover side by side** (per mode and setting; each cell: kill -9 / planned; recover and gap: medians over the runs, the others summed):',
    );
    doc.paragraph(killBesidePlannedTable(failover));
  }
  if (failover.wait.some((w) => w.runs > 0)) {
    doc.paragraph(
      '**The cost of WAIT** (`REDIS_WAIT_REPLICAS=1`: a purchase is answered once a replica has it). In every kill run, before the kill, the clients buy in turn from two box offices on the same Redis and listeners, one with `REDIS_WAIT_REPLICAS=0` and one with 1 ' +
        `(after 0.5 s on each to warm up: slices of ${fmt(plan.failover.beforeS / 4)} s, WAIT 0, 1, 1, 0, so that the machine's load hits both alike); then the run's own one takes the kill. Medians over the kill runs of each mode:`,
    );
    doc.paragraph(waitCostTable(failover));
  }
  doc.paragraph(lossesExplained(failover));
}

/** The topology, the apps and their settings, the clients, and each trigger. */
function sentinelSetup(plan: Plan, failover: FailoverSummary): string {
  const f = plan.failover;
  return (
    "A primary, 2 replicas and 3 Sentinels on loopback (the test kit's `SentinelTopology`, `down-after-milliseconds` 2,000), fresh for every run; both compiled apps on it through `REDIS_SENTINELS`/`REDIS_SENTINEL_NAME`: the box office (`dist/apps/box-office/src/main.js`) and the listeners app (`dist/apps/listeners/src/main.js`, the seed's five listeners, `DELIVERY=<mode>`), " +
    'with `REDIS_WAIT_REPLICAS` 0 or 1, `OUTBOX_GRACE_MS=1000`, `QUEUE_LOCK_MS=2000`, `QUEUE_STALLED_CHECK_MS=1000` as the HA tests run them. ' +
    `${f.clients} clients buy over HTTP, each its next purchase once the last is answered 201, every purchase with its own Idempotency-Key and repeated with it after a 503, a dropped connection or its 5 s deadline. ` +
    `**kill -9**: after ${f.beforeS} s of buying (below: the cost of WAIT) and 0.5 s more on the run's own box office, the primary is killed. ` +
    (failover.planned.length
      ? `**Planned**: the run's own box office only; after 0.5 s and ${fmt(f.plannedBeforeS)} s of buying, \`SENTINEL FAILOVER\` is sent to a Sentinel (the trigger's moment: when it is sent), and once every Sentinel names the new primary the old one is made its replica at once, its clients' connections closed (\`rejoin\`, as the Sentinel test does; Sentinel would 8 to 20 s later). `
      : '') +
    `The Sentinels promote a replica; the clients buy on for ${f.afterS} s after their first 201 since. ` +
    `Then every order answered 201 is looked for on the new primary (its order hash) and in the listeners' effects (the checks of every run), after the listeners applied what they would (unchanged for ${f.settleS} s, at most ${f.deadlineS} s). One run per mode, trigger and setting (${plan.reps.failover} run(s) each).`
  );
}

/** Seconds to recover: the median of the kills, and of the planned failovers. */
function recoverSummary(failover: FailoverSummary): string {
  const each = (runs: typeof failover.runs) =>
    runs.map((r) => fmt(r.recoverS)).join(', ');
  return (
    `**Seconds to recover** (from the trigger until the first purchase sent after it is answered 201; after a planned failover, sent after the first purchase refused since it: the box office sells on until a Sentinel's first failover event)` +
    (failover.kills.length
      ? `, **median of the ${failover.kills.length} kills: ${fmt(failover.recoverS)} s** (each: ${each(failover.kills)})`
      : '') +
    (failover.planned.length
      ? `; **of the ${failover.planned.length} planned failovers: ${fmt(failover.plannedRecoverS)} s** (each: ${each(failover.planned)})`
      : '') +
    '.'
  );
}

/** Every failover run: the rate before, the recovery, the answers, what was lost. */
function failoverRunsTable(failover: FailoverSummary): string {
  return table(
    [
      'mode',
      'trigger',
      'WAIT',
      'purchases/s before the trigger (its own WAIT)',
      'p50 ms',
      'p99 ms',
      'recover s',
      'Sentinels agreed s',
      'longest gap without a 201 s',
      'answers sent after the trigger',
      '201s',
      '201s missing from the new primary',
      '201s not applied (worst listener)',
      'podium: announced / applied / lost (sales-summary)',
      'double',
      'all applied',
    ],
    failover.runs.map((r) => [
      r.system,
      TRIGGER_NAME[triggerOf(r)],
      r.waitReplicas,
      fmt(r.before.purchasesPerSecond),
      ms(r.before.latency.p50),
      ms(r.before.latency.p99),
      fmt(r.recoverS),
      fmt(r.promotedS),
      fmt(r.outageS),
      answersText(r.answersAfterKill),
      fmt(r.answered201),
      r.lostRecorded,
      r.lostApplied,
      accountText(r.account),
      r.verification.double,
      r.complete ? 'yes' : 'no',
    ]),
  );
}

/** The runs of one mode, trigger and REDIS_WAIT_REPLICAS. */
const groupOf = (
  failover: FailoverSummary,
  mode: string,
  trigger: string,
  w: number,
) =>
  failover.groups.find(
    (x) => x.system === mode && x.trigger === trigger && x.waitReplicas === w,
  );

/** Per mode and setting, each cell "kill -9 / planned". */
function killBesidePlannedTable(failover: FailoverSummary): string {
  // One row per mode and setting, in the order the runs were made.
  const rows = [
    ...new Map(
      failover.runs.map((r) => [`${r.system} ${r.waitReplicas}`, r]),
    ).values(),
  ];
  const sideBySide = (
    mode: string,
    w: number,
    cell: (g: FailoverGroup) => string,
  ) =>
    ['kill', 'planned']
      .map((t) => {
        const g = groupOf(failover, mode, t, w);
        return g ? cell(g) : '–';
      })
      .join(' / ');
  return table(
    [
      'mode',
      'WAIT',
      'recover s',
      'longest gap without a 201 s',
      '201s missing from the new primary (of the 201s)',
      '201s not applied (worst listener)',
      'podium: lost (sales-summary)',
      'double',
    ],
    rows.map(({ system, waitReplicas: w }) => [
      system,
      w,
      sideBySide(system, w, (g) => fmt(g.recoverS)),
      sideBySide(system, w, (g) => fmt(g.outageS)),
      sideBySide(system, w, (g) => `${g.lostRecorded} of ${fmt(g.answered)}`),
      sideBySide(system, w, (g) => String(g.lostApplied)),
      sideBySide(system, w, (g) =>
        g.accountLost === undefined ? '–' : fmt(g.accountLost),
      ),
      sideBySide(system, w, (g) => String(g.double)),
    ]),
  );
}

/** WAIT 0 against WAIT 1 per mode: the paired rates and latencies, and what each kill lost. */
function waitCostTable(failover: FailoverSummary): string {
  const lostBy = (mode: string, w: number) => {
    const g = groupOf(failover, mode, 'kill', w);
    return g ? `${g.lostRecorded} of ${fmt(g.answered)}` : '–';
  };
  return table(
    [
      'mode',
      'runs',
      'purchases/s WAIT 0',
      'WAIT 1',
      'WAIT 1 ÷ WAIT 0 (median of the runs)',
      'p50 ms WAIT 0 → 1',
      'p99 ms WAIT 0 → 1',
      '201s lost with the killed primary, WAIT 0',
      'WAIT 1',
    ],
    failover.wait
      .filter((w) => w.runs > 0)
      .map((w) => [
        w.system,
        w.runs,
        fmt(w.rate0),
        fmt(w.rate1),
        `${fmt(w.ratio)}×`,
        `${ms(w.p50[0])} → ${ms(w.p50[1])}`,
        `${ms(w.p99[0])} → ${ms(w.p99[1])}`,
        lostBy(w.system, 0),
        lostBy(w.system, 1),
      ]),
  );
}

/** What "missing from the new primary", "not applied" and podium's account mean. */
function lossesExplained(failover: FailoverSummary): string {
  return (
    '"201s missing from the new primary": answered 201 (the box office said it was recorded) but the order hash is not on the promoted replica: lost with the old primary. ' +
    'After a kill, with WAIT 0, that happens only to an order answered in the moment between its write and its replication: on loopback the replicas are well under a millisecond behind, so a kill here loses few orders or none; between machines, or with a replica lagging, the window is the replication lag. ' +
    (failover.planned.length
      ? 'In a planned failover the old primary stays up and takes the writes of the clients still on it until they move, and its resync as a replica throws them away: from the first failover event a Sentinel publishes until the box office is on the new primary, podium writes nothing and answers 503 (`podium_purchases_refused_in_failover_total`), with either setting. '
      : '') +
    '"Not applied": of the answered orders, those the worst listener\'s effects lack (the missing ones included). ' +
    "podium's own account (`GET /listeners`: announced, applied, lost) says what the switch cost the listeners: ephemeral and queued listeners act on the announcements they hear, so those published while the listeners process was re-subscribing to the new primary are not applied (ephemeral) or not queued (queued), by design; durable listeners get their jobs from the box office, whatever they heard."
  );
}
