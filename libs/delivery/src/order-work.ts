import { Injectable } from '@nestjs/common';
import {
  isPlausibleOrderId,
  MalformedOrderError,
  type Order,
} from '@podium/orders';
import { EffectApplier, type ListenerEffects } from './effect-applier.js';
import type { RunningListener } from './listener-group.js';
import { OrderLoader, UnknownOrderError } from './order-loader.js';

/** What became of one order for one listener. */
export type ListenerOutcome = 'applied' | 'duplicate' | 'skipped' | 'failed';

export interface ListenerResult {
  listener: RunningListener;
  outcome: ListenerOutcome;
  /** Why it failed: its handler threw, Redis refused its writes, or the script did not run. */
  error?: Error;
  /** Where it failed: in the listener's own handler, or in Redis (worth a retry even in ephemeral mode). */
  failedIn?: 'handler' | 'redis';
}

/**
 * A message that cannot be processed as it is: not an order id or no such order, or an
 * order whose hash is malformed (a poison order: it can be fixed and retried). Never retried by itself.
 */
export class RejectedMessageError extends Error {
  constructor(
    message: string,
    readonly poison = false,
  ) {
    super(message);
  }
}

export interface OrderWorkOptions {
  /**
   * Scripts of runs with the same key reach Redis in the order the runs were started
   * (the order the announcements arrived), so "every 5th order" means the 5th announced.
   */
  sequence?: string;
  /** Read the order from Redis, not from the cache (a retry: the order may have been fixed). */
  fresh?: boolean;
}

/**
 * One order for a set of listeners, the unit of work of every delivery mode: load the order
 * once, ask each listener for its effects, apply all of them in one script. A listener whose
 * handler throws is reported failed without holding back the others.
 */
@Injectable()
export class OrderWork {
  /** Per sequence key: resolves once the latest run's script was sent to Redis. */
  private readonly lastIssued = new Map<string, Promise<void>>();

  constructor(
    private readonly orders: OrderLoader,
    private readonly applier: EffectApplier,
  ) {}

  /**
   * `select` picks the listeners to run once the order is loaded. Throws
   * RejectedMessageError when the id names no readable order; never throws for a listener.
   */
  async run(
    orderId: string,
    select: (order: Order) => readonly RunningListener[],
    { sequence, fresh }: OrderWorkOptions = {},
  ): Promise<ListenerResult[]> {
    let markIssued = (): void => undefined;
    let previous: Promise<void> | undefined;
    if (sequence !== undefined) {
      previous = this.lastIssued.get(sequence);
      const issued = new Promise<void>((resolve) => (markIssued = resolve));
      this.lastIssued.set(sequence, issued);
      void issued.then(() => {
        if (this.lastIssued.get(sequence) === issued)
          this.lastIssued.delete(sequence);
      });
    }
    try {
      const order = await this.load(orderId, fresh);
      const results: ListenerResult[] = [];
      const entries: ListenerEffects[] = [];
      const applying: ListenerResult[] = [];
      for (const listener of select(order)) {
        try {
          const effects = await listener.handle(order);
          entries.push({ listener: listener.name, effects: effects ?? null });
          const result: ListenerResult = {
            listener,
            outcome: effects ? 'applied' : 'skipped',
          };
          applying.push(result);
          results.push(result);
        } catch (err) {
          results.push({
            listener,
            outcome: 'failed',
            error: err as Error,
            failedIn: 'handler',
          });
        }
      }
      await previous;
      if (entries.length === 0) return results;
      const outcomes = this.applier.apply(order.orderId, entries);
      markIssued();
      try {
        (await outcomes).forEach((outcome, i) => {
          if (outcome instanceof Error)
            Object.assign(applying[i], {
              outcome: 'failed',
              error: outcome,
              failedIn: 'redis',
            });
          else applying[i].outcome = outcome;
        });
      } catch (err) {
        for (const result of applying)
          Object.assign(result, {
            outcome: 'failed',
            error: err as Error,
            failedIn: 'redis',
          });
      }
      return results;
    } finally {
      markIssued();
    }
  }

  /** The announced order; RejectedMessageError when the id names no readable order. */
  async load(orderId: string, fresh = false): Promise<Order> {
    if (!isPlausibleOrderId(orderId)) {
      throw new RejectedMessageError(
        `payload is not an order id: ${JSON.stringify(orderId.slice(0, 80))}`,
      );
    }
    try {
      return await this.orders.load(orderId, fresh);
    } catch (err) {
      if (err instanceof UnknownOrderError)
        throw new RejectedMessageError(err.message);
      if (err instanceof MalformedOrderError)
        throw new RejectedMessageError(err.message, true);
      throw err;
    }
  }
}
