/**
 * How a listener is delivered (see the README's delivery table):
 * - ephemeral: the handler runs on the pub/sub message; at most once.
 * - queued: the pub/sub message enqueues a BullMQ job; workers run the handler; at least
 *   once from the moment a listeners process heard the announcement.
 * - durable: as queued, and the box office enqueues the job itself when it records the
 *   order, before announcing it; every recorded order is processed, even those recorded
 *   while no listeners process ran.
 */
export const DELIVERY_MODES = ['ephemeral', 'queued', 'durable'] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];

export function isDeliveryMode(value: string): value is DeliveryMode {
  return (DELIVERY_MODES as readonly string[]).includes(value);
}

/** The environment variable that sets one listener's mode: sales-histogram -> DELIVERY_SALES_HISTOGRAM. */
export function deliveryVariable(listener: string): string {
  return `DELIVERY_${listener.toUpperCase().replaceAll('-', '_')}`;
}
