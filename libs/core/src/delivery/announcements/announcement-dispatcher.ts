import { Inject, Injectable, Optional } from '@nestjs/common';
import { DeliveryMetrics } from '../delivery-metrics.js';
import { DELIVERY_OPTIONS, type DeliveryOptions } from '../delivery.options.js';
import type { ListenerGroup, RunningListener } from '../listener-group.js';
import type {
  DeliveryStrategy,
  Heard,
} from '../strategies/delivery-strategy.js';
import { InFlight } from './in-flight.js';
import { AnnouncementTracing } from './announcement-tracing.js';
import { AnnouncementTransport } from './announcement-transport.js';

/**
 * The most messages one batch carries: one read of them, one effects script (and, queued or
 * durable, one job) for all of them. A read from the subscriber that brings more is cut
 * into batches of this size.
 */
export const MAX_BATCH_MESSAGES = 100;

interface GroupBatch {
  group: ListenerGroup;
  strategy: DeliveryStrategy;
  /** Per message id announced, the members that heard it. */
  heard: Map<string, Set<RunningListener>>;
}

/**
 * Turns announcements into batches of work per group. A message may be announced on
 * several channels (an Olympics order on two), and a process may hold several patterns
 * that match them: the messages of one read from the subscriber arrive in the same tick,
 * so they are gathered until the end of the tick (setImmediate: nothing waits on a timer)
 * and handed to each group's delivery once, every message with the members that heard
 * it, in the order they were announced. At most MAX_IN_FLIGHT announcements are worked on
 * at once; past that the subscriber stops reading. When the app traces, each batch is worked
 * on in a span of its own (AnnouncementTracing).
 */
@Injectable()
export class AnnouncementDispatcher {
  private readonly inFlight: InFlight;
  private pending = new Map<string, GroupBatch>();
  private scheduled = false;

  constructor(
    private readonly metrics: DeliveryMetrics,
    @Inject(DELIVERY_OPTIONS) options: DeliveryOptions,
    transport: AnnouncementTransport,
    @Optional() private readonly tracing?: AnnouncementTracing,
  ) {
    this.inFlight = new InFlight(options.maxInFlight, transport);
  }

  /** Announcements taken and not finished (applied, or enqueued). */
  get size(): number {
    return this.inFlight.size;
  }

  /** One message on a pattern: `listeners` are the members of `group` subscribed to it. */
  heard(
    group: ListenerGroup,
    strategy: DeliveryStrategy,
    listeners: readonly RunningListener[],
    payload: unknown,
  ): void {
    const id = typeof payload === 'string' ? payload : String(payload);
    for (const listener of listeners)
      this.metrics.messageReceived(listener.name, listener.mode);
    let batch = this.pending.get(group.name);
    if (!batch)
      this.pending.set(
        group.name,
        (batch = { group, strategy, heard: new Map() }),
      );
    let heard = batch.heard.get(id);
    if (!heard) {
      this.inFlight.reserve();
      batch.heard.set(id, (heard = new Set()));
    }
    for (const listener of listeners) heard.add(listener);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Resolves once every announcement taken so far was handled. */
  async drain(): Promise<void> {
    if (this.scheduled) await new Promise((resolve) => setImmediate(resolve));
    await this.inFlight.drain();
  }

  private flush(): void {
    const batches = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    for (const { group, strategy, heard } of batches.values()) {
      const all: Heard[] = [...heard].map(([id, listeners]) => ({
        id,
        listeners: [...listeners],
      }));
      for (let i = 0; i < all.length; i += MAX_BATCH_MESSAGES) {
        const batch = all.slice(i, i + MAX_BATCH_MESSAGES);
        this.metrics.batch(group.name, 'announcements', batch.length);
        const take = () => strategy.take(group, batch);
        this.inFlight.track(
          this.tracing ? this.tracing.take(group, batch, take) : take(),
          batch.length,
        );
      }
    }
  }
}
