import { Injectable, Module } from '@nestjs/common';
import type { Effects } from '@podium/core';
import {
  OnPurchase,
  eventChannel,
  ORDERS_CHANNEL,
  type Order,
} from '@podium/orders';

/** How often each test listener's handler ran, per order: a retry must not run the others again. */
export const handlerCalls = new Map<string, number>();
const called = (listener: string, order: Order): number => {
  const key = `${listener}:${order.orderId}`;
  const n = (handlerCalls.get(key) ?? 0) + 1;
  handlerCalls.set(key, n);
  return n;
};

/** Counts every order it applies in hash test:steady (a second application would show as 2). */
@Injectable()
export class SteadyListener {
  @OnPurchase({ listener: 'steady', channel: ORDERS_CHANNEL })
  onPurchase(order: Order): Effects {
    called('steady', order);
    return { writes: [['HINCRBY', 'test:steady', order.orderId, 1]] };
  }
}

/** Throws the first time it sees an order by "flaky-once", then applies it. */
@Injectable()
export class FlakyListener {
  @OnPurchase({ listener: 'flaky', pattern: `${eventChannel('')}*` })
  onPurchase(order: Order): Effects {
    if (called('flaky', order) === 1 && order.who === 'flaky-once')
      throw new Error(`flaky on ${order.orderId}`);
    return { writes: [['HINCRBY', 'test:flaky', order.orderId, 1]] };
  }
}

/** Waits for the test to open its gate before it returns: holds its orders in flight. */
export const gate = {
  open: Promise.resolve(),
  release: () => undefined as void,
};
export function closeGate(): void {
  gate.open = new Promise<void>((resolve) => (gate.release = resolve));
}

@Injectable()
export class GatedListener {
  @OnPurchase({ listener: 'gated', channel: ORDERS_CHANNEL })
  async onPurchase(order: Order): Promise<Effects> {
    await gate.open;
    return { writes: [['SADD', 'test:gated', order.orderId]] };
  }
}

@Module({ providers: [SteadyListener, FlakyListener] })
export class GroupListenersModule {}

@Module({ providers: [GatedListener] })
export class GatedListenerModule {}
