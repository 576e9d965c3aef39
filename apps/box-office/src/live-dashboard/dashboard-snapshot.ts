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

/** One listener as the page shows it. */
export interface ListenerRow {
  name: string;
  mode: string;
  group: string;
  durableSubscription: boolean;
  applied: number;
  /** Orders announced to it and not accounted for yet (waiting in a queue, in flight, or lost). */
  lag: number;
  /** Jobs waiting, running or delayed; null for a listener without a queue. */
  queueDepth: number | null;
  failed: number;
  /** Orders it will not apply unless retried (ephemeral: announced while it was down, cut or too slow). */
  lost: number;
}

export function listenerRow(s: ListenerStatus): ListenerRow {
  return {
    name: s.name,
    mode: s.mode,
    group: s.group,
    durableSubscription: s.durableSubscription,
    applied: s.counts.applied,
    lag: s.lag,
    queueDepth: s.queue
      ? s.queue.waiting + s.queue.active + s.queue.delayed
      : null,
    failed: s.counts.failed,
    lost: s.lost,
  };
}
