import { Injectable } from '@nestjs/common';
import type { ListenerGroup, RunningListener } from '../listener-group.js';
import { ListenerStats } from '../listener-stats.js';
import { OrderWork, RejectedMessageError } from '../order-work.js';
import type { DeliveryStrategy } from './delivery-strategy.js';

/**
 * At most once: the listeners that heard an announcement run on it at once, in this
 * process; an error is logged and counted, and the order is gone for that listener.
 */
@Injectable()
export class EphemeralDelivery implements DeliveryStrategy {
  constructor(
    private readonly work: OrderWork,
    private readonly stats: ListenerStats,
  ) {}

  bind(): void {}

  async start(): Promise<void> {}

  async take(group: ListenerGroup, orderId: string, heard: readonly RunningListener[]): Promise<void> {
    const startedAt = performance.now();
    try {
      const results = await this.work.run(orderId, () => heard, { sequence: group.name });
      this.stats.settled(orderId, results, startedAt);
    } catch (err) {
      if (err instanceof RejectedMessageError) return this.stats.rejected(orderId, heard, err);
      // The order could not be read (Redis unreachable): every listener that heard it failed.
      this.stats.settled(orderId, heard.map((listener) => ({ listener, outcome: 'failed' as const, error: err as Error })), startedAt);
    }
  }

  queueOf(): null {
    return null;
  }

  async check(): Promise<string[]> {
    return [];
  }

  queues(): [] {
    return [];
  }

  async close(): Promise<void> {}
}
