import { Injectable } from '@nestjs/common';
import {
  isPlausibleOrderId,
  MalformedOrderError,
  type Order,
} from '@podium/orders';
import type { Effects } from '../effects/effects.js';
import { EffectApplier, type EffectEntry } from '../effects/effect-applier.js';
import type { RunningListener } from '../listener-group.js';
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
 * order whose hash is malformed (a poison order: it can be fixed and retried). Never
 * retried by itself.
 */
export class RejectedMessageError extends Error {
  constructor(
    message: string,
    readonly poison = false,
  ) {
    super(message);
  }
}

/** One order of a batch, and how to pick its listeners once it is loaded. */
export interface WorkItem {
  orderId: string;
  select(order: Order): readonly RunningListener[];
}

/** What became of one order of a batch. */
export interface OrderOutcome {
  orderId: string;
  /** Per listener selected; empty when the order was rejected or could not be read. */
  results: ListenerResult[];
  /** The id names no readable order. */
  rejected?: RejectedMessageError;
  /** The order could not be read (Redis unreachable): none of its listeners ran. */
  unread?: Error;
}

export interface OrderWorkOptions {
  /**
   * Scripts of runs with the same key reach Redis in the order the runs were started
   * (the order the announcements arrived), so "every 5th order" means the 5th announced.
   */
  sequence?: string;
  /** Read the orders from Redis, not from the cache (a retry: an order may have been fixed). */
  fresh?: boolean;
}

/**
 * A batch of orders for a set of listeners, the unit of work of every delivery mode: load
 * the orders in one round trip, ask each listener for its effects on each, apply all of
 * them in one script. A listener whose handler throws fails for that order alone.
 */
@Injectable()
export class OrderWork {
  /** Per sequence key: resolves once the latest run's script was sent to Redis. */
  private readonly lastIssued = new Map<string, Promise<void>>();

  constructor(
    private readonly orders: OrderLoader,
    private readonly applier: EffectApplier,
  ) {}

  /** Never rejects: every failure is in the outcomes. */
  async run(
    items: readonly WorkItem[],
    { sequence, fresh }: OrderWorkOptions = {},
  ): Promise<OrderOutcome[]> {
    const turn = this.takeTurn(sequence);
    try {
      const { outcomes, effects } = await this.prepare(items, fresh);
      const entries: EffectEntry[] = [];
      const applying: ListenerResult[] = [];
      outcomes.forEach(({ orderId, results }, i) =>
        results.forEach((result, j) => {
          if (result.outcome === 'failed') return;
          entries.push({
            orderId,
            listener: result.listener.name,
            effects: effects[i][j],
            oneSlot: result.listener.oneSlot,
          });
          applying.push(result);
        }),
      );
      await turn.previous;
      if (entries.length > 0) await this.apply(entries, applying, turn.issued);
      return outcomes;
    } finally {
      turn.issued();
    }
  }

  /** Loads the orders and runs their listeners' handlers. */
  private async prepare(
    items: readonly WorkItem[],
    fresh = false,
  ): Promise<{ outcomes: OrderOutcome[]; effects: (Effects | null)[][] }> {
    const readable = items.filter((item) => isPlausibleOrderId(item.orderId));
    const loaded = await this.orders.loadMany(
      readable.map((item) => item.orderId),
      fresh,
    );
    const orders = new Map(readable.map((item, i) => [item, loaded[i]]));
    const outcomes: OrderOutcome[] = [];
    const effects: (Effects | null)[][] = [];
    for (const item of items) {
      const order = orders.get(item) ?? notAnOrderId(item.orderId);
      if (order instanceof Error) {
        outcomes.push({
          orderId: item.orderId,
          results: [],
          ...whyUnreadable(order),
        });
        effects.push([]);
        continue;
      }
      const handled = await handle(order, item.select(order));
      outcomes.push({ orderId: item.orderId, results: handled.results });
      effects.push(handled.effects);
    }
    return { outcomes, effects };
  }

  private async apply(
    entries: EffectEntry[],
    applying: ListenerResult[],
    issued: () => void,
  ): Promise<void> {
    const outcomes = this.applier.apply(entries);
    issued();
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
  }

  /** A place in the sequence: wait for `previous`, call `issued` once this run's script is sent. */
  private takeTurn(sequence: string | undefined): {
    previous?: Promise<void>;
    issued: () => void;
  } {
    if (sequence === undefined) return { issued: () => undefined };
    const previous = this.lastIssued.get(sequence);
    let issued = (): void => undefined;
    const done = new Promise<void>((resolve) => (issued = resolve));
    this.lastIssued.set(sequence, done);
    void done.then(() => {
      if (this.lastIssued.get(sequence) === done)
        this.lastIssued.delete(sequence);
    });
    return { previous, issued };
  }
}

/** Runs each listener's handler on the order; a handler that throws fails alone. */
async function handle(
  order: Order,
  listeners: readonly RunningListener[],
): Promise<{ results: ListenerResult[]; effects: (Effects | null)[] }> {
  const results: ListenerResult[] = [];
  const effects: (Effects | null)[] = [];
  for (const listener of listeners) {
    try {
      const handled = listener.handle(order);
      const found = handled instanceof Promise ? await handled : handled;
      results.push({ listener, outcome: found ? 'applied' : 'skipped' });
      effects.push(found ?? null);
    } catch (err) {
      results.push({
        listener,
        outcome: 'failed',
        error: err as Error,
        failedIn: 'handler',
      });
      effects.push(null);
    }
  }
  return { results, effects };
}

function notAnOrderId(orderId: string): RejectedMessageError {
  return new RejectedMessageError(
    `payload is not an order id: ${JSON.stringify(orderId.slice(0, 80))}`,
  );
}

function whyUnreadable(err: Error): Pick<OrderOutcome, 'rejected' | 'unread'> {
  if (err instanceof RejectedMessageError) return { rejected: err };
  if (err instanceof UnknownOrderError)
    return { rejected: new RejectedMessageError(err.message) };
  if (err instanceof MalformedOrderError)
    return { rejected: new RejectedMessageError(err.message, true) };
  return { unread: err };
}
