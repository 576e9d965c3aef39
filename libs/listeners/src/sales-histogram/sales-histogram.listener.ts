import { Injectable } from '@nestjs/common';
import { PodiumEnv, OnPurchase, type Effects } from '@podium/core';
import {
  eventHistogramKey,
  HISTOGRAM_ALL_EVENTS,
  histogramIncrementArgs,
  hourOfDay,
  ORDERS_CHANNEL,
  type Order,
} from '@podium/orders';

/** Tickets sold per hour of day (UTC, from the order's ts), for all events and per event. */
@Injectable()
export class SalesHistogramListener {
  constructor(private readonly env: PodiumEnv) {}

  @OnPurchase({ listener: 'sales-histogram', channel: ORDERS_CHANNEL })
  onPurchase(order: Order): Effects {
    const increment = histogramIncrementArgs(
      this.env.HISTOGRAM_ENCODING,
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
