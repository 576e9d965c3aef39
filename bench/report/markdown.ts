/** What the sections of REPORT.md write with: paragraphs, tables, and the cells several share. */
import type { BatchFigure } from '../lib/metrics.js';
import { fmt } from './svg.js';
import { publisherJobsMissing } from './targets.js';

/** REPORT.md as the sections write it, top to bottom: every paragraph (a table is one) then a blank line. */
export class Doc {
  private readonly lines: string[] = [];

  /** `charts`: the SVG files written beside REPORT.md. */
  constructor(private readonly charts: string[]) {}

  paragraph(text: string): void {
    this.lines.push(text, '');
  }

  /** A chart, when one was drawn: a chart needs figures its section can lack. */
  chart(name: string, alt: string): void {
    if (this.charts.includes(name)) this.paragraph(`![${alt}](${name})`);
  }

  text(): string {
    return this.lines.join('\n');
  }
}

export function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) =>
    `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  // Right-align the columns that hold only figures.
  const numeric = head.map(
    (_, i) =>
      i > 0 &&
      rows.every((r) =>
        /^(≥ )?[-–\d.,]+(×|%| ms| MB)?$/.test(String(r[i]).trim()),
      ),
  );
  return [
    line(head),
    line(numeric.map((n) => (n ? '---:' : '---'))),
    ...rows.map(line),
  ].join('\n');
}

/** Answers by outcome, as the failover tables give them: "201: 812, 503: 40". */
export const answersText = (answers: Record<string, number>) =>
  Object.entries(answers)
    .map(([k, v]) => `${k}: ${fmt(v)}`)
    .join(', ');

/** podium's own account of a listener: announced / applied / lost. */
export const accountText = (
  account: { announced: number; applied: number; lost: number } | undefined,
) =>
  account
    ? `${fmt(account.announced)} / ${fmt(account.applied)} / ${fmt(account.lost)}`
    : '–';

/** A batch size percentile: past the last bucket (500) it is Infinity, null once read back from results.json. */
const orders = (v: number) => (v === null || v === Infinity ? '> 500' : fmt(v));

/**
 * The batch sizes each podium run reached: orders per unit of work in the listeners process
 * (an announcements batch, a job), and per job its publisher queued.
 */
export function batchTable(
  rows: { label: string; batches?: BatchFigure[]; durableGroups?: string[] }[],
): string | undefined {
  const lines: (string | number)[][] = [];
  for (const { label, batches, durableGroups } of rows) {
    if (!batches) continue;
    for (const b of batches)
      lines.push([
        label,
        `${b.side}: ${b.source === 'job' ? 'jobs' : 'announcement batches'}`,
        b.group,
        fmt(b.units),
        fmt(b.orders),
        fmt(b.mean),
        orders(b.p50),
        orders(b.p90),
      ]);
    for (const group of publisherJobsMissing(batches, durableGroups))
      lines.push([
        label,
        'publisher: jobs',
        group,
        '–',
        '–',
        'not recorded: podium_publisher_job_orders has no observation',
        '–',
        '–',
      ]);
  }
  if (!lines.length) return undefined;
  return table(
    [
      'system',
      'unit of work',
      'group',
      'units',
      'orders',
      'orders per unit: mean',
      'p50',
      'p90',
    ],
    lines,
  );
}
