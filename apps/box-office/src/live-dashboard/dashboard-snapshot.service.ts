import { Injectable, NotFoundException } from '@nestjs/common';
import { ListenersService } from '../listeners/listeners.service.js';
import { ReportsService } from '../reports/reports.service.js';
import { listenerRow, type DashboardSnapshot } from './dashboard-snapshot.js';

/** How many alerts and lottery winners the page lists. */
export const ALERTS_SHOWN = 50;
export const WINNERS_SHOWN = 20;

/** Reads a snapshot through the read API's services (the same Redis reads as GET /metrics/sales, /alerts, /listeners...). */
@Injectable()
export class DashboardSnapshotService {
  constructor(
    private readonly reports: ReportsService,
    private readonly listeners: ListenersService,
  ) {}

  async read(): Promise<DashboardSnapshot> {
    const at = Date.now();
    const [sales, all, winners, alerts, listeners] = await Promise.all([
      this.reports.sales(),
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
          (err: unknown) => (err instanceof NotFoundException ? null : Promise.reject(err)),
        ),
      ),
    );
    return {
      at,
      sales,
      histogram: { encoding: all.encoding, all: all.hours, events: events.filter((e) => e !== null) },
      winners: winners.reverse(),
      alerts,
      listeners: listeners.map(listenerRow),
    };
  }
}
