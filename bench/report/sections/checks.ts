import type { Verification } from '../../lib/verify.js';
import { type Doc, table } from '../markdown.js';
import type { Results } from '../results.js';
import { allRuns, CUT_NAME, failoverLabel, SHORT } from '../summaries.js';
import { fmt } from '../svg.js';

/** Checks: every run's metric keys read back against its orders. */
export function renderChecks(doc: Doc, results: Results): void {
  doc.paragraph('## Checks');
  doc.paragraph(
    'After every run the bench stops the listeners process and reads the metric keys back: `sales:<event>` sets and `sales_summary` counters, `invoices:<who>` sets, the histograms (all events and per event), ' +
      '`Opening Ceremony:total_orders` with `lottery:winners`, and the `alerts` list (ALERTS_MAX raised so nothing is trimmed). Every order buys one ticket, so each counter counts orders. ' +
      'The table lists every run; lost = worst listener, double = all listeners.',
  );
  doc.paragraph(
    table(
      [
        'scenario',
        'system',
        'run',
        'orders',
        'lost',
        'still queued',
        'double',
        'problems',
        'log warnings/errors',
        'startup ms',
      ],
      [...listenersProcessRows(results), ...ownTopologyRows(results)],
    ),
  );
}

/** Runs that failed with an error, when there are any. */
export function renderFailedRuns(doc: Doc, results: Results): void {
  if (!results.failures.length) return;
  doc.paragraph('## Failed runs');
  doc.paragraph(
    table(
      ['scenario', 'system', 'run', 'error'],
      results.failures.map((f) => [f.scenario, f.system, f.rep, f.error]),
    ),
  );
}

/** The runs of the bench's own listeners process: their logs and startup time too. */
function listenersProcessRows(results: Results): (string | number)[][] {
  return allRuns(results).map(({ scenario, run }) => [
    scenario,
    SHORT[run.system] ?? run.system,
    run.rep,
    ...checkCells(run.verification),
    run.logProblems.count
      ? `${run.logProblems.count}: ${run.logProblems.first[0] ?? ''}`
      : '0',
    fmt(run.startupMs),
  ]);
}

/** The failover and cluster runs run the compiled apps (their logs are not read) or their own topology. */
function ownTopologyRows(results: Results): (string | number)[][] {
  return [
    ...(results.failover ?? []).map((run) => ({
      scenario: 'failover',
      label: failoverLabel(run),
      run,
    })),
    ...(results.networkCut ?? []).map((run) => ({
      scenario: 'failover',
      label: `${run.system}, ${CUT_NAME[run.cut]}`,
      run,
    })),
    ...(results.cluster ?? []).map((run) => ({
      scenario: 'cluster',
      label: `${run.system} on ${run.layout}`,
      run,
    })),
  ].map(({ scenario, label, run }) => [
    scenario,
    label,
    run.rep,
    ...checkCells(run.verification),
    '–',
    '–',
  ]);
}

/** A run's checks as the checks table gives them: orders, lost, still queued, double, problems. */
function checkCells(v: Verification): (string | number)[] {
  return [
    v.listeners.reduce((m, l) => Math.max(m, l.expected), 0),
    v.lost,
    Math.max(0, ...v.listeners.map((l) => l.queued)),
    v.double,
    v.problems.join('; ') || 'none',
  ];
}
