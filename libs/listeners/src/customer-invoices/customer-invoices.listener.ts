import { Injectable } from '@nestjs/common';
import { type Effects } from '@podium/core';
import {
  invoicesKey,
  OnPurchase,
  ORDERS_CHANNEL,
  type Order,
} from '@podium/orders';

/** Each customer's order ids (set invoices:<who>). */
@Injectable()
export class CustomerInvoicesListener {
  @OnPurchase({ listener: 'customer-invoices', channel: ORDERS_CHANNEL })
  onPurchase(order: Order): Effects {
    return { writes: [['SADD', invoicesKey(order.who), order.orderId]] };
  }
}
