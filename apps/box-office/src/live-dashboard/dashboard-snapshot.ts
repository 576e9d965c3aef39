import type { Alert } from '@podium/listeners';
import type { HistogramEncoding, Order } from '@podium/orders';
import type { ListenerStatus } from '../listeners/listeners.service.js';
import type { EventSales } from '../reports/reports.service.js';

/** Everything the dashboard shows, computed once and pushed to every open page. */
export interface DashboardSnapshot {
  /** When it was read, epoch milliseconds. */
  at: number;
  sales: EventSales[];
  histogram: {
    encoding: HistogramEncoding;
    /** The all-events histogram (its own key, not the sum of the events'). */
    all: number[];
    events: { event: string; hours: number[] }[];
  };
  /** The most recent winners, newest first. */
  winners: Order[];
  /** The most recent alerts, newest first. */
  alerts: Alert[];
  listeners: ListenerRow[];
}

/** One listener as the page shows it; null where the figure is not known. */
export interface ListenerRow {
  name: string;
  mode: string;
  group: string | null;
  durableSubscription: boolean;
  applied: number;
  /** Orders announced to it but not applied yet. */
  lag: number | null;
  /** Jobs waiting, running or delayed; null for a listener without a queue. */
  queueDepth: number | null;
  failed: number;
  /** Orders an ephemeral listener lost to a cut subscriber or a crash. */
  lost: number | null;
}

/**
 * Fields that listener statuses may carry beyond today's ListenerStatus (groups, and the
 * announced and lost counters of the delivery rework): shown when present.
 */
type MaybeExtended = ListenerStatus & {
  group?: string | null;
  lag?: number;
  lost?: number;
  counts: ListenerStatus['counts'] & { announced?: number; skipped?: number; lag?: number; lost?: number };
};

const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

export function listenerRow(status: ListenerStatus): ListenerRow {
  const s = status as MaybeExtended;
  const announced = num(s.counts.announced);
  const lag = num(s.lag) ?? num(s.counts.lag) ?? (announced === null ? null : Math.max(0, announced - s.counts.applied - (num(s.counts.skipped) ?? 0)));
  return {
    name: s.name,
    mode: s.mode,
    group: typeof s.group === 'string' && s.group !== '' ? s.group : null,
    durableSubscription: s.durableSubscription,
    applied: s.counts.applied,
    lag,
    queueDepth: s.queue ? s.queue.waiting + s.queue.active + s.queue.delayed : null,
    failed: s.counts.failed,
    lost: num(s.lost) ?? num(s.counts.lost),
  };
}
