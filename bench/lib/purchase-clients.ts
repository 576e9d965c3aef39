import type { Order } from '@podium/orders';
import { PurchaseStream } from '@podium/testing';
import { now } from './driver.js';
import { purchaseBodies } from './load.js';

/**
 * The failover scenario's clients: the test kit's careful client (PurchaseStream: each
 * purchase with its own Idempotency-Key, repeated with it until it is answered 201), on the
 * bench's clock, buying the bench's purchases (one ticket each, its events and customers:
 * the checks count orders).
 */
export function purchaseClients(
  url: string,
  options: {
    clients: number;
    keyPrefix: string;
    deadlineMs: number;
    retryMs: number;
    /** Each client's next purchase at most this often (default: once the last is answered). */
    paceMs?: number;
  },
): PurchaseStream {
  const bodies = purchaseBodies(64, 23);
  return new PurchaseStream(url, {
    ...options,
    events: [],
    giveUpMs: 60_000,
    clock: now,
    body: (c, i) => bodies[(c * 7 + i) % bodies.length] ?? bodies[0],
  });
}

/** The orders a stream's clients hold a 201 for, as the bench's checks read orders (cost as text). */
export function boughtOrders(stream: PurchaseStream): [string, Order][] {
  return [...stream.bought].map(([id, order]) => [
    id,
    { ...(order as unknown as Order), cost: String(order.cost) },
  ]);
}
