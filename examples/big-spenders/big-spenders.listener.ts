import { Injectable, Logger } from '@nestjs/common';
import { type Effects } from '@podium/core';
import { OnPurchase, ORDERS_CHANNEL, type Order } from '@podium/orders';

/** Customers ranked by what they spent in orders of $500 or more (sorted set big_spenders). */
@Injectable()
export class BigSpendersListener {
  private readonly logger = new Logger('BigSpenders');

  @OnPurchase({ listener: 'big-spenders', channel: ORDERS_CHANNEL }) // or { pattern: 'purchase_orders:*' }
  onPurchase(order: Order): Effects | null {
    if (Number(order.cost) < 500) return null; // not for this listener: nothing written
    return {
      writes: [['ZINCRBY', 'big_spenders', order.cost, order.who]],
      afterApply: () => this.logger.log(`${order.who} spent $${order.cost}`), // runs once, after the writes
    };
  }
}
