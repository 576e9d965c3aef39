/**
 * Baseline (d), the part its publisher and its consumers share: every order id goes into one
 * Redis stream, which each listener reads through a consumer group of its own.
 */
import type { RedisClient } from '@podium/redis';
import type { Order } from '@podium/orders';
import type { PublishStep } from '../lib/driver.js';

export const ORDERS_STREAM = 'bench:orders';
/** The entry's one field: the order id. */
export const ORDER_FIELD = 'order';

/** The publisher's step: after OrderPublisher.record, XADD the order id (on the publisher's connection). */
export class OrdersStream implements PublishStep {
  constructor(private readonly redis: RedisClient) {}

  async afterRecord(order: Order): Promise<void> {
    await this.redis.xadd(ORDERS_STREAM, '*', ORDER_FIELD, order.orderId);
  }

  async close(): Promise<void> {}
}
