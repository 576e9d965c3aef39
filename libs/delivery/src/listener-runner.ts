import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { isPlausibleOrderId, listenerStatsKey, MalformedOrderError, type Order } from '@podium/orders';
import { REDIS } from '@podium/redis';
import { DeliveryMetrics } from './delivery-metrics.js';
import { EffectApplier } from './effect-applier.js';
import type { Effects } from './effects.js';
import { OrderLoader, UnknownOrderError } from './order-loader.js';

/** A listener as the registrar found it: its name, what it subscribes to, its handler. */
export interface ListenerDefinition {
  name: string;
  /** The PSUBSCRIBE pattern (an exact channel arrives here glob-escaped). */
  pattern: string;
  handle(order: Order): Effects | null | Promise<Effects | null>;
}

export type Outcome = 'applied' | 'duplicate' | 'skipped' | 'rejected';

/** A message that can never be processed (not an order id, no such order): never retried. */
export class RejectedMessageError extends Error {}

/**
 * Runs one listener on one announced order id: load the order, ask the listener for its
 * effects, apply them once. Shared by every delivery mode.
 */
@Injectable()
export class ListenerRunner {
  private readonly logger = new Logger('Listeners');
  /** Per listener: resolves once the latest message's effects were sent to Redis. */
  private readonly lastIssued = new Map<string, Promise<void>>();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly orders: OrderLoader,
    private readonly applier: EffectApplier,
    @Inject(REDIS) private readonly redis: Redis,
    @Optional() private readonly metrics?: DeliveryMetrics,
  ) {}

  /**
   * Throws RejectedMessageError for a bad message, or the handler's or Redis' error.
   *
   * Orders are loaded concurrently, but each listener's effects are sent to Redis in the
   * order the messages arrived (Redis runs them in that order), so "every 5th order" means
   * the 5th announced, and the writes of many messages still share one pipelined round trip.
   */
  async process(listener: ListenerDefinition, payload: unknown): Promise<Outcome> {
    const previous = this.lastIssued.get(listener.name);
    let markIssued!: () => void;
    const issued = new Promise<void>((resolve) => (markIssued = resolve));
    this.lastIssued.set(listener.name, issued);
    try {
      const prepared = await this.prepare(listener, payload);
      await previous;
      if (!prepared) return 'skipped';
      const applying = this.applier.apply(listener.name, prepared.order.orderId, prepared.effects);
      markIssued();
      const { applied } = await applying;
      return applied ? 'applied' : 'duplicate';
    } finally {
      markIssued();
      if (this.lastIssued.get(listener.name) === issued) this.lastIssued.delete(listener.name);
    }
  }

  private async prepare(listener: ListenerDefinition, payload: unknown): Promise<{ order: Order; effects: Effects } | null> {
    const order = await this.load(payload);
    const effects = await listener.handle(order);
    return effects ? { order, effects } : null;
  }

  /** The announced order; RejectedMessageError when the payload names no readable order. */
  async load(payload: unknown): Promise<Order> {
    const orderId = typeof payload === 'string' ? payload : String(payload);
    if (!isPlausibleOrderId(orderId)) {
      throw new RejectedMessageError(`payload is not an order id: ${JSON.stringify(orderId.slice(0, 80))}`);
    }
    try {
      return await this.orders.load(orderId);
    } catch (err) {
      if (err instanceof UnknownOrderError || err instanceof MalformedOrderError) throw new RejectedMessageError(err.message);
      throw err;
    }
  }

  /**
   * At-most-once delivery: process now, and on any error log it and count it; the
   * message is gone either way and the process keeps running.
   */
  processOnce(listener: ListenerDefinition, payload: unknown): Promise<Outcome | 'failed'> {
    return this.track(this.processOnceNow(listener, payload));
  }

  /** Keeps a message's work in the in-flight set until it settles, for drain(). */
  track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work)).catch(() => undefined);
    return work;
  }

  /** Resolves once every message taken so far has been handled (for a graceful shutdown). */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async processOnceNow(listener: ListenerDefinition, payload: unknown): Promise<Outcome | 'failed'> {
    const startedAt = performance.now();
    let outcome: Outcome | 'failed';
    try {
      outcome = await this.process(listener, payload);
    } catch (err) {
      if (err instanceof RejectedMessageError) {
        outcome = 'rejected';
        await this.countRejected(listener, err);
      } else {
        outcome = 'failed';
        this.logger.error(`[${listener.name}] order ${String(payload)} failed: ${(err as Error).message}`);
        await this.countFailed(listener);
      }
    }
    this.metrics?.messageProcessed(listener.name, outcome, startedAt);
    return outcome;
  }

  async countRejected(listener: ListenerDefinition, err: Error): Promise<void> {
    this.logger.warn(`[${listener.name}] rejected message: ${err.message}`);
    await this.count(listener, 'rejected');
  }

  async countFailed(listener: ListenerDefinition): Promise<void> {
    await this.count(listener, 'failed');
  }

  private async count(listener: ListenerDefinition, field: 'rejected' | 'failed'): Promise<void> {
    await this.redis.hincrby(listenerStatsKey(listener.name), field, 1).catch(() => undefined);
  }
}
