import type { RedisClient } from '@podium/redis';
import { addAnnouncement } from './announcement.js';
import { orderKey } from './keys.js';
import { newOrderId, orderToHash, type Order } from './order.js';

/** An order's fields; `event` is needed, the others have defaults (see newOrder). */
export type OrderFields = Partial<Order> & Pick<Order, 'event'>;

/**
 * An order with defaults for the fields not given: a new id, customer "tester", one
 * ticket at $10, now. For tests, the bench and tools.
 */
export function newOrder(fields: OrderFields): Order {
  return {
    orderId: newOrderId(),
    who: 'tester',
    qty: 1,
    cost: '10',
    ts: Math.floor(Date.now() / 1000),
    ...fields,
  };
}

/**
 * Records an order and announces it the way the seed's programs do (HSET, then PUBLISH on
 * both channels, in one MULTI), as another program would: nothing of podium's own.
 */
export async function announceOrder(
  redis: RedisClient,
  fields: OrderFields,
): Promise<Order> {
  const order = newOrder(fields);
  await addAnnouncement(
    redis.multi().hset(orderKey(order.orderId), orderToHash(order)),
    order.orderId,
    order.event,
  ).exec();
  return order;
}
