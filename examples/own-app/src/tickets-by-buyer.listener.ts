import { Injectable } from '@nestjs/common';
import { OnPurchase, type Effects } from '@podium/core';
import { ORDERS_CHANNEL, type Order } from '@podium/orders';

/** Tickets per buyer (hash tickets_by_buyer). Durable unless the configuration says otherwise. */
@Injectable()
export class TicketsByBuyerListener {
  @OnPurchase({
    listener: 'tickets-by-buyer',
    channel: ORDERS_CHANNEL,
    mode: 'durable',
  })
  count(order: Order): Effects {
    return { writes: [['HINCRBY', 'tickets_by_buyer', order.who, order.qty]] };
  }
}
