import type { Queue } from 'bullmq';
import type { ListenerGroup, RunningListener } from '../listener-group.js';

/**
 * How one delivery mode delivers a group's orders. One implementation per mode
 * (EphemeralDelivery, QueuedDelivery, DurableDelivery), picked in one place
 * (DeliveryStrategies); nothing else branches on the mode.
 */
export interface DeliveryStrategy {
  /** Takes a group at start-up, before any announcement. */
  bind(group: ListenerGroup): void;
  /** Starts consuming (workers) and registers what must outlive the process (durable subscriptions). */
  start(): Promise<void>;
  /**
   * An announcement of `orderId` heard by `heard` (members of `group`). Resolves once it is
   * taken care of: applied (ephemeral) or safely in a queue (queued, durable). Never rejects.
   */
  take(
    group: ListenerGroup,
    orderId: string,
    heard: readonly RunningListener[],
  ): Promise<void>;
  /** The BullMQ queue the group's orders wait in, or null when they wait nowhere. */
  queueOf(group: ListenerGroup): string | null;
  /** For readiness: throws unless every worker it runs works; returns the groups they work for. */
  check(): Promise<string[]>;
  /** The queues it consumes, by group (for metrics). */
  queues(): { group: string; queue: Queue }[];
  /** Stops consuming, waits for the work it took, closes its connections. */
  close(): Promise<void>;
}
