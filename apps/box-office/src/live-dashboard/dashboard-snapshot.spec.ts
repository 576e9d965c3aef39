import type { ListenerStatus } from '../listeners/listeners.service.js';
import { listenerRow } from './dashboard-snapshot.js';

const status = (extra: Record<string, unknown> = {}, counts: Record<string, number> = {}): ListenerStatus =>
  ({
    name: 'sales-summary',
    mode: 'durable',
    pattern: 'purchase_orders',
    durableSubscription: true,
    counts: { applied: 40, duplicates: 1, rejected: 0, failed: 2, ...counts },
    queue: { waiting: 3, active: 1, delayed: 2, failed: 2, oldestWaitingMs: 15 },
    ...extra,
  }) as ListenerStatus;

describe('listenerRow', () => {
  it("shows today's fields, and no lag, lost or group it does not know", () => {
    expect(listenerRow(status())).toEqual({
      name: 'sales-summary',
      mode: 'durable',
      group: null,
      durableSubscription: true,
      applied: 40,
      lag: null,
      queueDepth: 6,
      failed: 2,
      lost: null,
    });
    expect(listenerRow(status({ mode: 'ephemeral', durableSubscription: false, queue: null })).queueDepth).toBeNull();
  });

  it('shows a group, a lag and a lost count when the status carries them', () => {
    expect(listenerRow(status({ group: 'billing', lag: 4, lost: 7 }))).toMatchObject({ group: 'billing', lag: 4, lost: 7 });
    expect(listenerRow(status({}, { lag: 5, lost: 9 }))).toMatchObject({ lag: 5, lost: 9 });
  });

  it('works the lag out from the orders announced when no lag is given', () => {
    expect(listenerRow(status({}, { announced: 50, skipped: 4 })).lag).toBe(6);
    expect(listenerRow(status({}, { announced: 30 })).lag).toBe(0);
  });
});
