import { Injectable, Module } from '@nestjs/common';
import type { Effects } from '@podium/core';
import { OnPurchase, ORDERS_CHANNEL, type Order } from '@podium/orders';

/** A listener with a bug: it throws on orders by "poison" until the bug is fixed. */
export const picky = { broken: true };

@Injectable()
export class PickyListener {
  @OnPurchase({ listener: 'picky', channel: ORDERS_CHANNEL })
  onPurchase(order: Order): Effects {
    if (picky.broken && order.who === 'poison')
      throw new Error(`cannot handle order ${order.orderId} by poison`);
    return { writes: [['SADD', 'test:picky', order.orderId]] };
  }
}

@Module({ providers: [PickyListener] })
export class PickyModule {}
