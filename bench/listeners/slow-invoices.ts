import { Injectable, Module } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Effects } from '@podium/core';
import {
  OnPurchase,
  invoicesKey,
  ORDERS_CHANNEL,
  type Order,
} from '@podium/orders';
import { SLOW_LISTENER, SLOW_LISTENER_MS } from '../lib/model.js';

/**
 * Scenario 4's slow listener: customer-invoices' effect (SADD invoices:<who> <order id>),
 * after 20 ms of waiting, as a handler that calls a slow service would. It replaces
 * customer-invoices in the slow scenarios, so the invoices checks still apply.
 */
@Injectable()
export class SlowInvoicesListener {
  @OnPurchase({ listener: SLOW_LISTENER, channel: ORDERS_CHANNEL })
  async onPurchase(order: Order): Promise<Effects> {
    await sleep(SLOW_LISTENER_MS);
    return { writes: [['SADD', invoicesKey(order.who), order.orderId]] };
  }
}

@Module({ providers: [SlowInvoicesListener] })
export class SlowInvoicesModule {}
