import { SLOW_LISTENER } from '../../lib/model.js';
import { medianRun } from '../../lib/stats.js';
import type { SlowRun } from '../../scenarios/slow.js';
import { batchTable, type Doc, table } from '../markdown.js';
import type { Results } from '../results.js';
import {
  bySystem,
  LABEL,
  latencySummaries,
  ms,
  PODIUM,
  ratio,
} from '../summaries.js';
import { fmt } from '../svg.js';

/** Per system (mixed last), its median run by peak RSS. */
type SlowRow = { system: string; run: SlowRun };

/** 4. A slow listener, and 5. mixed delivery: where the backlog waits, and what the others feel. */
export function renderSlow(doc: Doc, results: Results): void {
  const plan = results.meta.plan;
  const slowRows: SlowRow[] = [
    ...bySystem([...results.slow, ...results.mixed]),
  ].map(([system, runs]) => ({
    system,
    run: medianRun(runs, (r) => r.peakRssMb)!,
  }));
  if (!slowRows.length) return;
  doc.paragraph('## 4. Slow listener, and 5. mixed delivery');
  doc.paragraph(
    `slow-invoices (customer-invoices' effect after \`await sleep(20)\`) replaces customer-invoices; ${plan.slow.rate} orders/s for ${plan.slow.seconds} s, then up to ${plan.slow.drainS} s to drain. ` +
      'Backlog = orders published but not yet applied by slow-invoices. "Queued" = where that backlog waits when the run ends (BullMQ queue for podium queued/durable; the in-process queue for (a)); it is not counted as lost. ' +
      `Scenario 5 (**${LABEL.mixed}**) is the last row. Redis's pub/sub output-buffer limit is the default (32 MB hard, 8 MB for 60 s).`,
  );
  doc.paragraph(backlogTable(slowRows, plan.slow.drainS));
  doc.paragraph(
    'Do the other listeners suffer? Latency in ms of the four other listeners pooled, against the same four in scenario 2 at 500 orders/s:',
  );
  doc.paragraph(othersLatencyTable(slowRows, results));
  const batches = batchTable(
    slowRows
      .filter(({ system }) => PODIUM.has(system))
      .map(({ system, run }) => ({
        label: LABEL[system],
        batches: run.batches,
      })),
  );
  if (batches) {
    doc.paragraph(
      "Batch sizes reached (slow-invoices in its group `slow`, the other four in their mode's group):",
    );
    doc.paragraph(batches);
  }
  doc.chart('slow-memory.svg', 'slow listener RSS');
  doc.chart('slow-backlog.svg', 'slow listener backlog');
}

/** Memory, the backlog and where it waited, losses. */
function backlogTable(slowRows: SlowRow[], drainS: number): string {
  const seed = slowRows.find((r) => r.system === 'seed');
  return table(
    [
      'system',
      'peak RSS MB',
      'RSS × (a)',
      'backlog peak',
      'backlog at stream end',
      'queue depth peak',
      'sub buffer peak KB',
      'dropped by Redis',
      'lost',
      'still queued',
      'double',
      'all applied',
    ],
    slowRows.map(({ system, run }) => {
      const slowCheck = run.verification.listeners.find(
        (l) => l.listener === SLOW_LISTENER,
      );
      return [
        LABEL[system],
        fmt(run.peakRssMb),
        system === 'seed' ? '1×' : ratio(run.peakRssMb, seed?.run.peakRssMb),
        run.backlogPeak,
        run.backlogAtStreamEnd,
        run.queueDepthPeak ?? '–',
        fmt(run.peakSubscriberBufferKb),
        run.outputBufferDisconnects,
        run.verification.lost,
        slowCheck?.queued ?? 0,
        run.verification.double,
        run.complete ? 'yes' : `no (within ${drainS} s)`,
      ];
    }),
  );
}

/** The four other listeners' latency beside the slow one, against scenario 2 at 500 orders/s. */
function othersLatencyTable(slowRows: SlowRow[], results: Results): string {
  const seed = slowRows.find((r) => r.system === 'seed');
  const lat500 = new Map(
    latencySummaries(results)
      .filter((l) => l.rate === 500)
      .map((l) => [l.system, l]),
  );
  return table(
    [
      'system',
      'others p50',
      'others p99',
      'others p99 in scenario 2',
      'others p99 × (a)',
      'slow-invoices p50',
      'slow-invoices p99',
    ],
    slowRows.map(({ system, run }) => {
      // The mixed run's other listeners are ephemeral.
      const ref = lat500.get(system === 'mixed' ? 'ephemeral' : system);
      return [
        LABEL[system],
        ms(run.others.p50),
        ms(run.others.p99),
        ref
          ? `${ms(ref.othersP99)}${system === 'mixed' ? ' (ephemeral)' : ''}`
          : '–',
        system === 'seed' ? '1×' : ratio(run.others.p99, seed?.run.others.p99),
        ms(run.slow.p50),
        ms(run.slow.p99),
      ];
    }),
  );
}
