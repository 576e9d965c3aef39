import { setTimeout as sleep } from 'node:timers/promises';
import { waitFor } from './wait-for.js';

/** A purchase answered 201 (a replayed Idempotency-Key answers the same order again). */
export interface Bought {
  orderId: string;
  event: string;
  qty: number;
  who: string;
  cost: number;
}

/** One HTTP request of the stream. */
export interface Attempt {
  sentAt: number;
  answeredAt: number;
  /** The HTTP status, or what happened instead. */
  outcome: number | 'deadline' | 'connection';
  /** The body of an answer other than 201 (a 503's reason). */
  said?: string;
}

export interface PurchaseStreamOptions {
  /** The events bought from, in turn (unless `body` says what to buy). */
  events: string[];
  /** The body of client `client`'s purchase `i` (default: the events in turn, 1 to 4 tickets, customer client-<c>). */
  body?: (client: number, i: number) => string;
  /** The clock of the attempts' times (default Date.now; the bench's is finer). */
  clock?: () => number;
  clients?: number;
  /** A client gives up on a request after this long (and counts it). */
  deadlineMs?: number;
  /** How long a client waits before it tries again after a 503 or a dropped connection. */
  retryMs?: number;
  /** Idempotency-Keys start with it: streams of one test must not share keys. */
  keyPrefix?: string;
  /** A purchase not answered 201 within this long fails the stream (default 30 s). */
  giveUpMs?: number;
  /**
   * A client starts its next purchase at most this often, ms (default: as soon as the last
   * is answered 201): `clients` × 1000 / paceMs purchases/s at most, whatever the machine's load.
   */
  paceMs?: number;
}

/**
 * Clients buying from a box office (the HA tests', the bench's failover scenario's), one purchase after another each, the way a careful
 * client does: every purchase has its own Idempotency-Key and is repeated with it until it
 * is answered 201, whatever comes meanwhile (503, a dropped connection, its own deadline).
 * So every order recorded in the end is one a client holds a 201 for. Anything but 201 and
 * 503, or a purchase still not answered 201 after `giveUpMs`, stops the stream and fails
 * the test.
 */
export class PurchaseStream {
  /** Orders answered 201, by order id. */
  readonly bought = new Map<string, Bought>();
  readonly attempts: Attempt[] = [];
  private stopping = false;
  private failure?: Error;
  private readonly clients: Promise<void>[];
  private readonly deadlineMs: number;
  private readonly now: () => number;
  private readonly retryMs: number;

  constructor(
    private readonly url: string,
    private readonly options: PurchaseStreamOptions,
  ) {
    this.now = options.clock ?? Date.now;
    this.deadlineMs = options.deadlineMs ?? 5000;
    this.retryMs = options.retryMs ?? 100;
    this.clients = Array.from({ length: options.clients ?? 16 }, (_, c) =>
      this.client(c).catch((err: Error) => {
        this.failure ??= err;
      }),
    );
  }

  /** Answers 201 so far, replays included. */
  get successes(): number {
    return this.attempts.filter((a) => a.outcome === 201).length;
  }

  /** Waits until `count` more purchases than now were answered 201. */
  async more(count: number, timeoutMs = 20_000): Promise<void> {
    const target = this.successes + count;
    await waitFor(
      () => {
        if (this.failure) throw this.failure;
        return this.successes >= target;
      },
      { what: `${count} more purchases answered 201`, timeoutMs },
    );
  }

  /**
   * The longest time without a 201 answer from `from` on: when the last purchase before it
   * and the first after it were answered.
   */
  outage(
    from: number,
    { fromStart = false }: { fromStart?: boolean } = {},
  ): { start: number; end: number } {
    const times = this.attempts
      .filter((a) => a.outcome === 201 && a.answeredAt >= from)
      .map((a) => a.answeredAt)
      .sort((a, b) => a - b);
    // fromStart: the time from `from` to the first 201 counts too.
    let outage = {
      start: fromStart ? from : (times[0] ?? from),
      end: times[0] ?? from,
    };
    for (let i = 1; i < times.length; i++)
      if (times[i] - times[i - 1] > outage.end - outage.start)
        outage = { start: times[i - 1], end: times[i] };
    return outage;
  }

  /** Why the stream stopped, if it did. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** The 201 answers answered within [from, to). */
  successesBetween(from: number, to: number): Attempt[] {
    return this.attempts.filter(
      (a) => a.outcome === 201 && a.answeredAt >= from && a.answeredAt < to,
    );
  }

  /** When the first purchase sent at or after `at` was answered 201 (purchases in flight at `at` may be answered 201 later, at a deadline). */
  firstSuccessSentAfter(at: number): number | undefined {
    return this.attempts.find((a) => a.outcome === 201 && a.sentAt >= at)
      ?.answeredAt;
  }

  /** Answers other than 201 since `from`, by outcome. */
  outcomes(from = 0): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const a of this.attempts.filter((a) => a.sentAt >= from))
      counts[a.outcome] = (counts[a.outcome] ?? 0) + 1;
    return counts;
  }

  /** How many answers other than 201 said each thing (their message), since `from`. */
  reasons(from = 0): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const a of this.attempts.filter((a) => a.sentAt >= from && a.said)) {
      const said = messageOf(a.said!);
      counts[said] = (counts[said] ?? 0) + 1;
    }
    return counts;
  }

  /** The longest a request took. */
  get slowestMs(): number {
    return Math.max(0, ...this.attempts.map((a) => a.answeredAt - a.sentAt));
  }

  /**
   * Lets every client finish the purchase it is on (until its 201), then stop. A failure
   * is thrown with `explain()`'s words appended (what the box office logged, say).
   */
  async stop(explain?: () => string): Promise<void> {
    this.stopping = true;
    await Promise.all(this.clients);
    if (this.failure)
      throw new Error(
        `${this.failure.message}${explain ? `\n${explain()}` : ''}`,
      );
  }

  private async client(c: number): Promise<void> {
    // Not after a failure: buy() would return at once, and the loop would never yield.
    for (let i = 0; !this.stopping && !this.failure; i++) {
      const startedAt = this.now();
      const body = this.options.body?.(c, i) ?? this.seedBody(c, i);
      await this.buy(`${this.options.keyPrefix ?? 'p'}-c${c}-${i}`, body);
      const early = (this.options.paceMs ?? 0) - (this.now() - startedAt);
      if (early > 0) await sleep(early);
    }
  }

  private seedBody(c: number, i: number): string {
    const { events } = this.options;
    const n = c + i * (this.options.clients ?? 16);
    return JSON.stringify({
      event: events[n % events.length],
      qty: 1 + (n % 4),
      who: `client-${c}`,
    });
  }

  /** One purchase, repeated with its key until it is answered 201. */
  private async buy(key: string, body: string): Promise<void> {
    const giveUpAt = this.now() + (this.options.giveUpMs ?? 30_000);
    for (;;) {
      if (this.failure) return;
      if (this.now() > giveUpAt)
        throw new Error(`purchase ${key} not answered 201 in time`);
      const sentAt = this.now();
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
          signal: AbortSignal.timeout(this.deadlineMs),
        });
        outcome = res.status;
      } catch (err) {
        outcome =
          (err as Error).name === 'TimeoutError' ? 'deadline' : 'connection';
      }
      if (outcome === 201) {
        const order = (await res!.json()) as Bought;
        this.attempts.push({ sentAt, answeredAt: this.now(), outcome });
        this.bought.set(order.orderId, order);
        return;
      }
      const text = res ? await res.text() : '';
      this.attempts.push({
        sentAt,
        answeredAt: this.now(),
        outcome,
        ...(text && { said: text }),
      });
      if (typeof outcome === 'number' && outcome !== 503)
        throw new Error(`purchase ${key} answered ${outcome}: ${text}`);
      await sleep(this.retryMs);
    }
  }
}

/** An error body's message (Nest's JSON), or the body as it is. */
function messageOf(body: string): string {
  try {
    const { message } = JSON.parse(body) as { message?: unknown };
    return typeof message === 'string' ? message : body;
  } catch {
    return body;
  }
}
