import type { Queue } from 'bullmq';
import type { ListenerGroup, RunningListener } from '../listener-group.js';

/** A message announced, and the members of a group that heard it (subscribed to one of its channels). */
export interface Heard {
  id: string;
  listeners: readonly RunningListener[];
}

/**
 * How one delivery mode delivers a group's messages. One implementation per mode
 * (EphemeralDelivery, QueuedDelivery, DurableDelivery), picked in one place
 * (DeliveryStrategies); nothing else branches on the mode. The modes with a queue also
 * run workers: they have the optional lifecycle members.
 */
export interface DeliveryStrategy {
  /**
   * A batch of announcements heard by members of `group` (one read from the subscriber,
   * at most MAX_BATCH messages). Resolves once they are taken care of: applied (ephemeral)
   * or safely in a queue (queued, durable). Never rejects.
   */
  take(group: ListenerGroup, batch: readonly Heard[]): Promise<void>;
  /** The BullMQ queue the group's messages wait in, or null when they wait nowhere. */
  queueOf(group: ListenerGroup): string | null;

  /** Takes a group at start-up, before any announcement. */
  bind?(group: ListenerGroup): void;
  /** Starts consuming (workers) and registers what must outlive the process (durable subscriptions). */
  start?(): Promise<void>;
  /** For readiness: throws unless every worker it runs works; returns the groups they work for. */
  check?(): Promise<string[]>;
  /** The queues it consumes, by group (for metrics). */
  queues?(): { group: string; queue: Queue }[];
  /** Stops consuming, waits for the work it took, closes its connections. */
  close?(): Promise<void>;
}
