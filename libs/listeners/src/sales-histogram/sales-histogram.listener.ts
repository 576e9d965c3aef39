import { Injectable } from '@nestjs/common';
import { type Effects } from '@podium/core';
import {
  eventHistogramKey,
  HISTOGRAM_ALL_EVENTS,
  histogramIncrementArgs,
  hourOfDay,
  ORDERS_CHANNEL,
  type Order,
  OlympicsSettings,
  OnPurchase,
} from '@podium/orders';

/** Tickets sold per hour of day (UTC, from the order's ts), for all events and per event. */
@Injectable()
export class SalesHistogramListener {
  constructor(private readonly settings: OlympicsSettings) {}

  @OnPurchase({ listener: 'sales-histogram', channel: ORDERS_CHANNEL })
  onPurchase(order: Order): Effects {
    const increment = histogramIncrementArgs(
      this.settings.histogramEncoding,
      hourOfDay(order.ts),
      order.qty,
    );
    return {
      writes: [
        ['BITFIELD', HISTOGRAM_ALL_EVENTS, ...increment],
        ['BITFIELD', eventHistogramKey(order.event), ...increment],
      ],
    };
  }
}
