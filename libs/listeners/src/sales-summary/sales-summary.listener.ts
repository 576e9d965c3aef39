import { Injectable } from '@nestjs/common';
import { type Effects } from '@podium/core';
import {
  ORDERS_CHANNEL,
  SALES_SUMMARY,
  salesSetKey,
  salesSummaryField,
  type Order,
  OnPurchase,
} from '@podium/orders';

/** Per event: the set of its orders, total sales and tickets sold (hash sales_summary). */
@Injectable()
export class SalesSummaryListener {
  @OnPurchase({ listener: 'sales-summary', channel: ORDERS_CHANNEL })
  onPurchase(order: Order): Effects {
    return {
      writes: [
        ['SADD', salesSetKey(order.event), order.orderId],
        [
          'HINCRBYFLOAT',
          SALES_SUMMARY,
          salesSummaryField.totalSales(order.event),
          order.cost,
        ],
        [
          'HINCRBY',
          SALES_SUMMARY,
          salesSummaryField.ticketsSold(order.event),
          order.qty,
        ],
      ],
    };
  }
}
