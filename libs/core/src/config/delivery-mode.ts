/**
 * How a listener is delivered (see the README's delivery table):
 * - ephemeral: the handler runs on the pub/sub message; at most once.
 * - queued: the pub/sub message enqueues a BullMQ job; workers run the handler; at least
 *   once from the moment a listeners process heard the announcement.
 * - durable: as queued, and the publisher enqueues the job itself when it records the
 *   message, before announcing it; every recorded message is processed, even those recorded
 *   while no listeners process ran.
 */
export const DELIVERY_MODES = ['ephemeral', 'queued', 'durable'] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];

export function isDeliveryMode(value: string): value is DeliveryMode {
  return (DELIVERY_MODES as readonly string[]).includes(value);
}

const variableSuffix = (listener: string): string =>
  listener.toUpperCase().replaceAll('-', '_');

/** The environment variable that sets one listener's mode: sales-histogram -> DELIVERY_SALES_HISTOGRAM. */
export function deliveryVariable(listener: string): string {
  return `DELIVERY_${variableSuffix(listener)}`;
}

/** The environment variable that puts one listener in a group: slow-invoices -> DELIVERY_GROUP_SLOW_INVOICES. */
export function groupVariable(listener: string): string {
  return `DELIVERY_GROUP_${variableSuffix(listener)}`;
}

/**
 * The listener one of those variables names: DELIVERY_GROUP_SLOW_INVOICES -> slow-invoices
 * (no listener's name starts with "group", see OnMessage).
 */
export function listenerOfVariable(variable: string): string {
  return variable
    .replace(/^DELIVERY_(GROUP_)?/, '')
    .toLowerCase()
    .replaceAll('_', '-');
}

/** Group names become BullMQ queue names and Redis key parts: kebab-case, no ':'. */
export const GROUP_NAME = /^[a-z][a-z0-9-]{0,63}$/;
