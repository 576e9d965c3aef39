import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { Alert } from '@podium/listeners';
import {
  ALERTS,
  eventHistogramKey,
  HISTOGRAM_ALL_EVENTS,
  histogramReadArgs,
  invoicesKey,
  LOTTERY_WINNERS,
  orderFromHash,
  orderKey,
  SALES_SUMMARY,
  salesSetKey,
  salesSummaryField,
  type HistogramEncoding,
  type Order,
  OlympicsSettings,
} from '@podium/orders';
import { PlacedReads, REDIS, type RedisClient } from '@podium/redis';
import type { TicketedEvent } from '../events/event.js';
import { EventsService } from '../events/events.service.js';

export interface EventSales {
  event: string;
  totalSales: number;
  ticketsSold: number;
  orders: number;
}

export interface Histogram {
  event: string | null;
  encoding: HistogramEncoding;
  /** Tickets sold in each hour of the day, UTC, index 0 to 23. */
  hours: number[];
}

/**
 * Reads the metrics the listeners write, from the seed's keys (on a cluster, from the parts
 * they are split in: PlacedReads).
 */
@Injectable()
export class ReportsService {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly reads: PlacedReads,
    private readonly settings: OlympicsSettings,
    private readonly events: EventsService,
  ) {}

  /** Per event: sales, tickets and orders; of the events given, or of all (a scan of the keyspace). */
  async sales(events?: TicketedEvent[]): Promise<EventSales[]> {
    events ??= await this.events.list();
    const [summary, counts] = await Promise.all([
      this.reads.hashSums(SALES_SUMMARY),
      Promise.all(
        events.map(({ name }) => this.reads.setSize(salesSetKey(name))),
      ),
    ]);
    return events.map(({ name }, i) => ({
      event: name,
      // The parts' sum without binary noise (59.970000000000006 is 59.97).
      totalSales: Number(
        (summary[salesSummaryField.totalSales(name)] ?? 0).toFixed(9),
      ),
      ticketsSold: summary[salesSummaryField.ticketsSold(name)] ?? 0,
      orders: counts[i],
    }));
  }

  async histogram(event?: string): Promise<Histogram> {
    if (event !== undefined && !(await this.events.find(event))) {
      throw new NotFoundException(`event "${event}" does not exist`);
    }
    const key =
      event === undefined ? HISTOGRAM_ALL_EVENTS : eventHistogramKey(event);
    const encoding = this.settings.histogramEncoding;
    const hours = await this.reads.bitfieldSums(
      key,
      histogramReadArgs(encoding),
    );
    return { event: event ?? null, encoding, hours };
  }

  async invoices(who: string): Promise<Order[]> {
    return this.orders(await this.reads.setMembers(invoicesKey(who)));
  }

  /** Winning orders in the order they won; only the last `last` of them when given. */
  async lotteryWinners(last?: number): Promise<Order[]> {
    return this.orders(
      await this.reads.listRange(LOTTERY_WINNERS, last ? -last : 0, -1),
      false,
    );
  }

  async alerts(limit: number): Promise<Alert[]> {
    const lines = await this.reads.listRange(ALERTS, 0, limit - 1, newestFirst);
    return lines.map((line) => JSON.parse(line) as Alert);
  }

  /** Loads orders by id, oldest first unless told to keep the given order. */
  private async orders(ids: string[], sortByTime = true): Promise<Order[]> {
    const hashes = await Promise.all(
      ids.map((id) => this.redis.hgetall(orderKey(id))),
    );
    const orders = ids.flatMap((id, i) => {
      try {
        return [orderFromHash(id, hashes[i])];
      } catch {
        return []; // an order hash deleted or damaged since: nothing to show
      }
    });
    return sortByTime
      ? orders.sort((a, b) => a.ts - b.ts || a.orderId.localeCompare(b.orderId))
      : orders;
  }
}

/** Alerts newest first: by the order's time, then id (on a cluster alerts are kept in parts). */
function newestFirst(a: string, b: string): number {
  const [x, y] = [JSON.parse(a) as Alert, JSON.parse(b) as Alert];
  return y.ts - x.ts || y.orderId.localeCompare(x.orderId);
}
