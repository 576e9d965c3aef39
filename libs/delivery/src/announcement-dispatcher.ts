import { Inject, Injectable } from '@nestjs/common';
import { withLogContext } from '@podium/observability';
import { isPlausibleOrderId } from '@podium/orders';
import { DeliveryMetrics } from './delivery-metrics.js';
import { DELIVERY_OPTIONS, type DeliveryOptions } from './delivery.options.js';
import { InFlight } from './in-flight.js';
import type { ListenerGroup, RunningListener } from './listener-group.js';
import { PurchaseTransport } from './purchase-transport.js';
import type { DeliveryStrategy } from './strategies/delivery-strategy.js';

interface Pending {
  group: ListenerGroup;
  strategy: DeliveryStrategy;
  orderId: string;
  heard: Set<RunningListener>;
}

/**
 * Turns announcements into one unit of work per order and group. An order is announced on
 * two channels, and a process may hold several patterns that match them: the messages of
 * one read from the subscriber arrive together, so they are gathered until the end of the
 * tick and handed to the group's delivery once, with every member that heard them. At most
 * MAX_IN_FLIGHT units are worked on at once; past that the subscriber stops reading.
 */
@Injectable()
export class AnnouncementDispatcher {
  private readonly inFlight: InFlight;
  private pending = new Map<string, Pending>();
  private scheduled = false;

  constructor(
    private readonly metrics: DeliveryMetrics,
    @Inject(DELIVERY_OPTIONS) options: DeliveryOptions,
    transport: PurchaseTransport,
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
    const orderId = typeof payload === 'string' ? payload : String(payload);
    for (const listener of listeners)
      this.metrics.messageReceived(listener.name, listener.mode);
    const key = `${group.name}\n${orderId}`;
    let unit = this.pending.get(key);
    if (!unit) {
      this.inFlight.reserve();
      this.pending.set(
        key,
        (unit = { group, strategy, orderId, heard: new Set() }),
      );
    }
    for (const listener of listeners) unit.heard.add(listener);
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
    const units = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    for (const { group, strategy, orderId, heard } of units.values()) {
      const context = isPlausibleOrderId(orderId) ? { orderId } : {};
      this.inFlight.track(
        withLogContext(context, () =>
          strategy.take(group, orderId, [...heard]),
        ),
      );
    }
  }
}
