import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { validatePodiumEnv } from '@podium/config';
import type { Order } from '@podium/orders';
import { OrderPublisher } from '@podium/publisher';
import { createRedis } from '@podium/redis';

export const now = (): number => performance.timeOrigin + performance.now();

export interface StreamResult {
  startMs: number;
  endMs: number;
  published: number;
  /** Orders per second actually offered. */
  achievedRate: number;
  /** Worst delay of a publish behind its schedule (paced streams). */
  maxLagMs: number;
}

/**
 * "The purchase is recorded": podium's OrderPublisher.record, the box office's own call,
 * used for every system (podium and both baselines) so all of them get the same orders the
 * same way. t0 of an order is taken just before record() is called.
 */
export class Driver {
  readonly t0 = new Map<string, number>();
  /** When record() resolved, per order. */
  readonly recorded = new Map<string, number>();
  errors = 0;
  lastError?: string;
  published = 0;

  private constructor(
    private readonly redis: Redis,
    private readonly publisher: OrderPublisher,
  ) {}

  static create(redisUrl: string): Driver {
    const redis = createRedis(redisUrl, 'bench-publisher');
    return new Driver(redis, new OrderPublisher(redis, validatePodiumEnv({ REDIS_URL: redisUrl })));
  }

  async close(): Promise<void> {
    await this.publisher.onApplicationShutdown();
    await this.redis.quit().catch(() => undefined);
  }

  private record(order: Order): Promise<void> {
    this.t0.set(order.orderId, now());
    this.published++;
    return this.publisher.record(order).then(
      (result) => {
        this.recorded.set(order.orderId, now());
        if (result.outcome !== 'created') {
          this.errors++;
          this.lastError = `${order.orderId}: ${result.outcome}`;
        }
      },
      (err: Error) => {
        this.errors++;
        this.lastError = err.message;
      },
    );
  }

  /** How long record() took (ms), for these orders. */
  recordDurations(orders: readonly Order[]): number[] {
    const out: number[] = [];
    for (const o of orders) {
      const start = this.t0.get(o.orderId);
      const end = this.recorded.get(o.orderId);
      if (start !== undefined && end !== undefined) out.push(end - start);
    }
    return out;
  }

  /** As fast as the publisher allows: `concurrency` publishers, each waiting for its last. */
  async saturate(orders: readonly Order[], concurrency: number): Promise<StreamResult> {
    const startMs = now();
    let next = 0;
    const publisher = async () => {
      while (next < orders.length) await this.record(orders[next++]);
    };
    await Promise.all(Array.from({ length: concurrency }, publisher));
    const endMs = now();
    return { startMs, endMs, published: orders.length, achievedRate: orders.length / ((endMs - startMs) / 1000), maxLagMs: 0 };
  }

  /**
   * At a steady offered rate: each order is published at its scheduled time (checked every
   * millisecond or so), without waiting for earlier publishes to finish.
   */
  async paced(orders: readonly Order[], rate: number, onTick?: (published: number) => void): Promise<StreamResult> {
    const startMs = now();
    const inFlight = new Set<Promise<void>>();
    let maxLagMs = 0;
    let i = 0;
    while (i < orders.length) {
      const t = now();
      const due = Math.min(orders.length, Math.floor(((t - startMs) * rate) / 1000) + 1);
      if (due > i) maxLagMs = Math.max(maxLagMs, t - (startMs + (i * 1000) / rate));
      while (i < due) {
        const p = this.record(orders[i++]);
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
      onTick?.(i);
      if (i < orders.length) await sleep(Math.max(0, startMs + (i * 1000) / rate - now() - 0.2));
    }
    const lastScheduled = now();
    await Promise.all(inFlight);
    return {
      startMs,
      endMs: lastScheduled,
      published: orders.length,
      achievedRate: orders.length / ((lastScheduled - startMs) / 1000 + 1 / rate),
      maxLagMs,
    };
  }
}
