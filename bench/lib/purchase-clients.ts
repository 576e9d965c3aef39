import { setTimeout as sleep } from 'node:timers/promises';
import type { Order } from '@podium/orders';
import { now } from './driver.js';
import { purchaseBodies } from './load.js';

/** One HTTP request of a client. */
export interface Attempt {
  sentAt: number;
  answeredAt: number;
  /** The HTTP status, or what happened instead. */
  outcome: number | 'deadline' | 'connection';
}

/**
 * The failover scenario's clients (test/support/purchase-stream.ts's careful client, for the
 * bench): each buys one purchase after another, every purchase with its own Idempotency-Key,
 * repeated with it after a 503, a dropped connection or its deadline until it is answered
 * 201. So every order a client holds a 201 for is one the box office says it recorded, and
 * a retry never buys twice. One ticket each, the bench's events and customers (the checks
 * count orders).
 */
export class PurchaseClients {
  /** Orders answered 201, by order id. */
  readonly bought = new Map<string, Order>();
  readonly attempts: Attempt[] = [];
  private stopping = false;
  private failure?: Error;
  private readonly clients: Promise<void>[];
  private readonly bodies = purchaseBodies(64, 23);

  constructor(
    private readonly url: string,
    private readonly options: {
      clients: number;
      keyPrefix: string;
      deadlineMs: number;
      retryMs: number;
    },
  ) {
    this.clients = Array.from({ length: options.clients }, (_, c) =>
      this.client(c).catch((err: Error) => {
        this.failure ??= err;
      }),
    );
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  /** The 201 answers answered within [from, to). */
  successesBetween(from: number, to: number): Attempt[] {
    return this.attempts.filter(
      (a) => a.outcome === 201 && a.answeredAt >= from && a.answeredAt < to,
    );
  }

  /** When the first purchase sent at or after `at` was answered 201. */
  firstSuccessSentAfter(at: number): number | undefined {
    return this.attempts.find((a) => a.outcome === 201 && a.sentAt >= at)
      ?.answeredAt;
  }

  /** The longest time without a 201 from `from` on: [last 201 before it, first after]. */
  outage(from: number): { start: number; end: number } {
    const times = this.attempts
      .filter((a) => a.outcome === 201 && a.answeredAt >= from)
      .map((a) => a.answeredAt)
      .sort((a, b) => a - b);
    let gap = { start: from, end: times[0] ?? from };
    for (let i = 1; i < times.length; i++)
      if (times[i] - times[i - 1] > gap.end - gap.start)
        gap = { start: times[i - 1], end: times[i] };
    return gap;
  }

  /** Answers of the requests sent at or after `from`, by outcome. */
  outcomes(from: number): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const a of this.attempts)
      if (a.sentAt >= from)
        counts[String(a.outcome)] = (counts[String(a.outcome)] ?? 0) + 1;
    return counts;
  }

  /** Lets every client finish its purchase (until its 201), then stop. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.clients);
    if (this.failure) throw this.failure;
  }

  private async client(c: number): Promise<void> {
    for (let i = 0; !this.stopping && !this.failure; i++) {
      const body =
        this.bodies[(c * 7 + i) % this.bodies.length] ?? this.bodies[0];
      await this.buy(`${this.options.keyPrefix}-c${c}-${i}`, body);
    }
  }

  private async buy(key: string, body: string): Promise<void> {
    const giveUpAt = now() + 60_000;
    for (;;) {
      if (this.failure) return;
      if (now() > giveUpAt)
        throw new Error(`purchase ${key} not answered 201 within 60 s`);
      const sentAt = now();
      let outcome: Attempt['outcome'];
      let res: Response | undefined;
      try {
        res = await fetch(`${this.url}/purchases`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': key,
          },
          body,
          signal: AbortSignal.timeout(this.options.deadlineMs),
        });
        outcome = res.status;
      } catch (err) {
        outcome =
          (err as Error).name === 'TimeoutError' ? 'deadline' : 'connection';
      }
      if (outcome === 201) {
        const order = (await res!.json()) as Order;
        this.attempts.push({ sentAt, answeredAt: now(), outcome });
        this.bought.set(order.orderId, {
          ...order,
          cost: String(order.cost),
        });
        return;
      }
      const text = res ? await res.text().catch(() => '') : '';
      this.attempts.push({ sentAt, answeredAt: now(), outcome });
      if (typeof outcome === 'number' && outcome !== 503)
        throw new Error(
          `purchase ${key} answered ${outcome}: ${text.slice(0, 200)}`,
        );
      await sleep(this.options.retryMs);
    }
  }
}
