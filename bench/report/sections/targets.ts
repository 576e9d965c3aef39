import { type Doc, table } from '../markdown.js';
import type { Results } from '../results.js';
import { targets } from '../targets.js';

const yes = (ok: boolean | null) =>
  ok === null ? 'not measured' : ok ? '**met**' : '**missed**';

/** Every target, met or not, and why when missed (the targets themselves: ../targets.ts). */
export function renderTargets(doc: Doc, results: Results): void {
  doc.paragraph('## Targets');
  doc.paragraph(
    table(
      ['target', 'figure', 'result', 'why, when missed'],
      targets(results).map((t) => [t.name, t.figure, yes(t.met), t.why ?? '']),
    ),
  );
}
