import type { RedisClient } from '@podium/redis';
import {
  addAnnouncement,
  appliedKey,
  newOrderId,
  orderKey,
  orderToHash,
  queuedField,
  type Order,
} from '@podium/orders';
import { waitFor } from './wait-for.js';

/** An order's fields; `event` is needed, the others have test defaults. */
export type OrderFields = Partial<Order> & Pick<Order, 'event'>;

/** An order with test defaults (a new id, customer "tester", one ticket at $10, now) for the fields not given. */
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
 * Records an order and announces it the way the box office does (the seed's protocol),
 * for testing listeners without the box office.
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

/** Waits until every named listener has applied the order (its applied marker is set). */
export async function waitForApplied(
  redis: RedisClient,
  orderId: string,
  listeners: string[],
  timeoutMs = 10_000,
): Promise<void> {
  await waitFor(
    async () => {
      const marks = await redis.hmget(appliedKey(orderId), ...listeners);
      return marks.every((m) => m === '1');
    },
    { what: `order ${orderId} applied by ${listeners.join(', ')}`, timeoutMs },
  );
}

/** The groups an order is marked queued (or claimed) for: the fields queued:<group> of its markers. */
export async function queuedGroups(
  redis: RedisClient,
  orderId: string,
): Promise<string[]> {
  const prefix = queuedField('');
  return Object.keys(await redis.hgetall(appliedKey(orderId)))
    .filter((field) => field.startsWith(prefix))
    .map((field) => field.slice(prefix.length))
    .sort();
}
