import { newOrderId, type Order } from '@podium/orders';
import {
  CUSTOMERS,
  EVENTS,
  listenersFor,
  PRICE,
  type Variant,
} from './model.js';

/** A small deterministic generator, so every run picks events and customers alike. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Orders for one stream. Made once per bench run and replayed, ids and all, on every system
 * (the private Redis is flushed between runs). Each buys one ticket, so every counter podium
 * and the baselines keep counts orders (see README: how results are checked).
 */
export function makeOrders(count: number, seed: number): Order[] {
  const random = mulberry32(seed);
  const ts = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, () => ({
    orderId: newOrderId(),
    who: CUSTOMERS[Math.floor(random() * CUSTOMERS.length)],
    qty: 1,
    cost: String(PRICE),
    event: EVENTS[Math.floor(random() * EVENTS.length)],
    ts,
  }));
}

/** How many effects each listener should apply for these orders. */
export function expectedCounts(
  orders: readonly Order[],
  names: readonly string[],
  variant: Variant,
): number[] {
  const counts = names.map(() => 0);
  const index = new Map(names.map((n, i) => [n, i]));
  for (const order of orders)
    for (const name of listenersFor(order.event, variant))
      counts[index.get(name)!]++;
  return counts;
}
