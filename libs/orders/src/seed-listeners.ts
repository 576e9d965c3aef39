import { OPENING_CEREMONY } from './keys.js';

/**
 * The seed's five listeners (pubsub-olympics.md), by podium's names. The demo, the bench and
 * the tests across the apps check the seed's effects, so they name these; a listener added
 * since is not one of them, and they leave it alone.
 */
export const SEED_LISTENERS = [
  'sales-histogram',
  'sales-summary',
  'customer-invoices',
  'opening-ceremony-lottery',
  'event-alerts',
] as const;

/** The seed's listeners that apply an order of this event: the lottery only Opening Ceremony's, the alerter every other's. */
export function seedListenersFor(event: string): string[] {
  return SEED_LISTENERS.filter((name) =>
    name === 'opening-ceremony-lottery'
      ? event === OPENING_CEREMONY
      : name === 'event-alerts'
        ? event !== OPENING_CEREMONY
        : true,
  );
}
