import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { PodiumEnv } from '@podium/config';
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
} from '@podium/orders';
import { REDIS } from '@podium/redis';
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

/** Reads the metrics the listeners write, from the seed's keys. */
@Injectable()
export class ReportsService {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly env: PodiumEnv,
    private readonly events: EventsService,
  ) {}

  /** Per event: sales, tickets and orders; of the events given, or of all (a scan of the keyspace). */
  async sales(events?: TicketedEvent[]): Promise<EventSales[]> {
    events ??= await this.events.list();
    const pipeline = this.redis.pipeline().hgetall(SALES_SUMMARY);
    for (const { name } of events) pipeline.scard(salesSetKey(name));
    const [[, summary], ...counts] = ((await pipeline.exec()) ?? []) as [
      unknown,
      unknown,
    ][];
    const fields = summary as Record<string, string>;
    return events.map(({ name }, i) => ({
      event: name,
      totalSales: Number(fields[salesSummaryField.totalSales(name)] ?? 0),
      ticketsSold: Number(fields[salesSummaryField.ticketsSold(name)] ?? 0),
      orders: Number(counts[i]?.[1] ?? 0),
    }));
  }

  async histogram(event?: string): Promise<Histogram> {
    if (event !== undefined && !(await this.events.find(event))) {
      throw new NotFoundException(`event "${event}" does not exist`);
    }
    const key =
      event === undefined ? HISTOGRAM_ALL_EVENTS : eventHistogramKey(event);
    const encoding = this.env.HISTOGRAM_ENCODING;
    const hours = (await this.redis.call(
      'BITFIELD',
      key,
      ...histogramReadArgs(encoding),
    )) as number[];
    return { event: event ?? null, encoding, hours: hours.map(Number) };
  }

  async invoices(who: string): Promise<Order[]> {
    return this.orders(await this.redis.smembers(invoicesKey(who)));
  }

  /** Winning orders in the order they won; only the last `last` of them when given. */
  async lotteryWinners(last?: number): Promise<Order[]> {
    return this.orders(
      await this.redis.lrange(LOTTERY_WINNERS, last ? -last : 0, -1),
      false,
    );
  }

  async alerts(limit: number): Promise<Alert[]> {
    const lines = await this.redis.lrange(ALERTS, 0, limit - 1);
    return lines.map((line) => JSON.parse(line) as Alert);
  }

  /** Loads orders by id, oldest first unless told to keep the given order. */
  private async orders(ids: string[], sortByTime = true): Promise<Order[]> {
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(orderKey(id));
    const hashes = ((await pipeline.exec()) ?? []).map(
      ([, h]) => h as Record<string, string>,
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
