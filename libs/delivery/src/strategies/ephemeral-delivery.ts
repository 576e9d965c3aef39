import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import type { ListenerGroup, RunningListener } from '../listener-group.js';
import { ListenerStats } from '../listener-stats.js';
import {
  OrderWork,
  RejectedMessageError,
  type ListenerResult,
} from '../order-work.js';
import type { DeliveryStrategy } from './delivery-strategy.js';

/** Tries of an order whose effects Redis refused (out of memory, a blip), 100 ms apart, doubling. */
export const EPHEMERAL_REDIS_TRIES = 4;

/**
 * At most once: the listeners that heard an announcement run on it at once, in this
 * process. Effects that Redis refuses are tried again briefly; a handler that throws, or
 * effects still refused after that, fail: logged, counted, and kept in the listener's failed
 * set (podium:failed:<listener>), from which the API can announce the order again.
 */
@Injectable()
export class EphemeralDelivery implements DeliveryStrategy {
  constructor(
    private readonly work: OrderWork,
    private readonly stats: ListenerStats,
  ) {}

  bind(): void {}

  async start(): Promise<void> {}

  async take(
    group: ListenerGroup,
    orderId: string,
    heard: readonly RunningListener[],
  ): Promise<void> {
    const startedAt = performance.now();
    let pending = heard;
    for (let attempt = 1; pending.length > 0; attempt++) {
      let results: ListenerResult[];
      try {
        results = await this.work.run(orderId, () => pending, {
          sequence: group.name,
          fresh: attempt > 1,
        });
      } catch (err) {
        if (err instanceof RejectedMessageError) {
          this.stats.rejected(orderId, pending, err);
          if (err.poison)
            await Promise.all(
              pending.map((l) =>
                this.stats.keepFailed(l.name, orderId, err, 'rejected'),
              ),
            );
          return;
        }
        // The order could not be read (Redis unreachable): every listener that heard it failed this try.
        results = pending.map((listener) => ({
          listener,
          outcome: 'failed',
          error: err as Error,
          failedIn: 'redis',
        }));
      }
      const retry =
        attempt < EPHEMERAL_REDIS_TRIES
          ? results.filter((r) => r.failedIn === 'redis')
          : [];
      const settled = results.filter((r) => !retry.includes(r));
      this.stats.settled(orderId, settled, startedAt);
      for (const r of settled)
        if (r.outcome === 'failed')
          await this.stats.keepFailed(r.listener.name, orderId, r.error!);
      pending = retry.map((r) => r.listener);
      if (pending.length > 0) await sleep(100 * 2 ** (attempt - 1));
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
