import { medianRun } from '../../lib/stats.js';
import type { CrashRun } from '../../scenarios/crash.js';
import { batchTable, type Doc, table } from '../markdown.js';
import type { Results } from '../results.js';
import { bySystem, LABEL, PODIUM, ratio } from '../summaries.js';
import { fmt } from '../svg.js';

/** Per system, its median run by orders lost. */
type CrashRow = { system: string; run: CrashRun };

/** 3. Crash: the listeners process killed with SIGKILL mid-stream and restarted. */
export function renderCrash(doc: Doc, results: Results): void {
  const plan = results.meta.plan;
  if (!results.crash.length) return;
  doc.paragraph('## 3. Crash');
  doc.paragraph(
    `A steady ${plan.crash.rate} orders/s for ${plan.crash.seconds} s; the listeners process is killed with SIGKILL a third of the way through and a new one started ${plan.crash.downMs / 1000} s later. ` +
      `Then the bench reads the metric keys until every effect is there, or until they have not changed for ${plan.crash.settleS} s, but for the systems whose listeners run BullMQ jobs (podium queued and durable, (c)) not before ` +
      `${fmt((plan.crash.lockMs + 2 * plan.crash.stalledCheckMs + 1000) / 1000)} s after the restart (QUEUE_LOCK_MS ${plan.crash.lockMs} + 2 × QUEUE_STALLED_CHECK_MS ${plan.crash.stalledCheckMs} + 1 s: ` +
      `a dead worker's jobs come back once their lock expired and a stalled check ran); at most ${plan.crash.deadlineS} s after the stream. ` +
      '"Announced while down" = orders published between the kill and the new process being subscribed ("down ms"). ' +
      'Lost and double-counted orders come from the metric keys (worst listener for lost; all listeners for double).',
  );
  const crash: CrashRow[] = [...bySystem(results.crash)].map(
    ([system, runs]) => ({
      system,
      run: medianRun(runs, (r) => r.verification.lost)!,
    }),
  );
  doc.paragraph(crashTable(crash));
  doc.paragraph('Lost per listener:');
  doc.paragraph(lostPerListenerTable(crash));
  const batches = batchTable(
    crash
      .filter(({ system }) => PODIUM.has(system))
      .map(({ system, run }) => ({
        label: LABEL[system],
        batches: run.batches,
      })),
  );
  if (batches) {
    doc.paragraph(
      'Batch sizes reached, both listeners processes (the killed one read just before the kill) from the end of the warm-up:',
    );
    doc.paragraph(batches);
  }
  doc.chart('crash.svg', 'crash chart');
}

function crashTable(crash: CrashRow[]): string {
  const seed = crash.find((c) => c.system === 'seed');
  return table(
    [
      'system',
      'announced while down',
      'down ms',
      'lost',
      'lost ÷ announced while down',
      'lost × (a)',
      'double',
      'duplicates skipped by podium',
      'all applied',
      'settled s after stream',
      'peak RSS MB',
    ],
    crash.map(({ system, run }) => [
      LABEL[system],
      run.announcedWhileDown,
      fmt(run.downMs),
      run.verification.lost,
      run.announcedWhileDown
        ? fmt(run.verification.lost / run.announcedWhileDown, 3)
        : '–',
      system === 'seed'
        ? '1×'
        : ratio(run.verification.lost, seed?.run.verification.lost),
      run.verification.double,
      run.duplicatesSkipped ?? '–',
      run.complete ? 'yes' : 'no',
      fmt(run.settleS),
      fmt(run.peakRssMb),
    ]),
  );
}

function lostPerListenerTable(crash: CrashRow[]): string {
  // The listeners are the same in every run: the first system's name the columns.
  const names = crash[0].run.verification.listeners.map((l) => l.listener);
  return table(
    ['system', ...names],
    crash.map(({ system, run }) => [
      LABEL[system],
      ...run.verification.listeners.map(
        (l) => `${l.lost}${l.double ? ` (+${l.double} double)` : ''}`,
      ),
    ]),
  );
}
