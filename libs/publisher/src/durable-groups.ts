import { eventChannel, globMatches, ORDERS_CHANNEL } from '@podium/orders';
import type { DurableSubscription } from '@podium/queues';

/** The durable groups with a pattern that matches one of an order's two channels. */
export function durableGroupsMatching(
  subscriptions: readonly DurableSubscription[],
  event: string,
): string[] {
  const channels = [ORDERS_CHANNEL, eventChannel(event)];
  return subscriptions
    .filter((s) =>
      s.patterns.some((pattern) =>
        channels.some((channel) => globMatches(pattern, channel)),
      ),
    )
    .map((s) => s.group);
}
