import type { ListenerStatus } from '../listeners/listeners.service.js';
import { listenerRow } from './dashboard-snapshot.js';

const status = (extra: Partial<ListenerStatus> = {}): ListenerStatus => ({
  name: 'sales-summary',
  mode: 'durable',
  group: 'billing',
  pattern: 'purchase_orders',
  durableSubscription: true,
  counts: {
    announced: 52,
    applied: 40,
    skipped: 0,
    duplicates: 1,
    rejected: 0,
    failed: 2,
    lost: 0,
  },
  lag: 10,
  lost: 4,
  queue: { waiting: 3, active: 1, delayed: 2, failed: 2, oldestWaitingMs: 15 },
  ...extra,
});

describe('listenerRow', () => {
  it('shows a listener as the page needs it: mode, group, applied, lag, queue depth, failed, lost', () => {
    expect(listenerRow(status())).toEqual({
      name: 'sales-summary',
      mode: 'durable',
      group: 'billing',
      durableSubscription: true,
      applied: 40,
      lag: 10,
      queueDepth: 6,
      failed: 2,
      lost: 4,
    });
  });

  it('has no queue depth for a listener without a queue', () => {
    expect(
      listenerRow(
        status({ mode: 'ephemeral', durableSubscription: false, queue: null }),
      ).queueDepth,
    ).toBeNull();
  });
});
