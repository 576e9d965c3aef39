import { Injectable, NotFoundException } from '@nestjs/common';
import type { TicketedEvent } from '../events/event.js';
import { EventsService } from '../events/events.service.js';
import { ListenersService } from '../listeners/listeners.service.js';
import { ReportsService } from '../reports/reports.service.js';
import { listenerRow, type DashboardSnapshot } from './dashboard-snapshot.js';

/** How many alerts and lottery winners the page lists. */
export const ALERTS_SHOWN = 50;
export const WINNERS_SHOWN = 20;
/**
 * The list of events is read again at most this often, or at once when an order names an
 * event not on it: listing events scans the whole keyspace, which grows with every order
 * (27 ms at 36,000 keys), and the page reads up to 4 snapshots a second.
 */
export const EVENTS_REFRESH_MS = 10_000;

/** Reads a snapshot through the read API's services (the same Redis reads as GET /metrics/sales, /alerts, /listeners...). */
@Injectable()
export class DashboardSnapshotService {
  private events?: {
    list: TicketedEvent[];
    names: Set<string>;
    readAt: number;
  };

  constructor(
    private readonly reports: ReportsService,
    private readonly listeners: ListenersService,
    private readonly eventsService: EventsService,
  ) {}

  /** An order of this event was announced: an event not listed yet makes the next read list them again. */
  orderAnnounced(event: string): void {
    if (this.events && !this.events.names.has(event)) this.events = undefined;
  }

  async read(): Promise<DashboardSnapshot> {
    const at = Date.now();
    const [sales, all, winners, alerts, listeners] = await Promise.all([
      this.listEvents().then((events) => this.reports.sales(events)),
      this.reports.histogram(),
      this.reports.lotteryWinners(WINNERS_SHOWN),
      this.reports.alerts(ALERTS_SHOWN),
      this.listeners.list(),
    ]);
    const events = await Promise.all(
      sales.map(({ event }) =>
        this.reports.histogram(event).then(
          ({ hours }) => ({ event, hours }),
          // An event deleted since it was listed: leave it out.
          (err: unknown) => {
            if (err instanceof NotFoundException) return null;
            throw err;
          },
        ),
      ),
    );
    return {
      at,
      sales,
      histogram: {
        encoding: all.encoding,
        all: all.hours,
        events: events.filter((e) => e !== null),
      },
      winners: winners.reverse(),
      alerts,
      listeners: listeners.map(listenerRow),
    };
  }

  private async listEvents(): Promise<TicketedEvent[]> {
    if (!this.events || Date.now() - this.events.readAt > EVENTS_REFRESH_MS) {
      const readAt = Date.now();
      const list = await this.eventsService.list();
      this.events = { list, names: new Set(list.map((e) => e.name)), readAt };
    }
    return this.events.list;
  }
}
