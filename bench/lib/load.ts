import autocannon from 'autocannon';
import { now } from './driver.js';
import { makeOrders } from './orders.js';

/** What the HTTP scenario's clients send: a few purchases varying event and customer (one ticket each). */
export function purchaseBodies(count = 32, seed = 19): string[] {
  return makeOrders(count, seed).map(({ event, who }) =>
    JSON.stringify({ event, qty: 1, who }),
  );
}

export interface LoadResult {
  startMs: number;
  endMs: number;
  /** Answers by status code. */
  statuses: Record<string, number>;
  ok: number;
  non2xx: number;
  /** Connection errors (timeouts included), and timeouts alone. */
  errors: number;
  timeouts: number;
  /** Response time of every 2xx answer, ms (autocannon's own histogram keeps whole ms only). */
  latencies: number[];
  /** The order ids of the 201 answers. */
  answered: string[];
}

/**
 * autocannon, in this process: `connections` keep-alive connections, each sending the next
 * purchase as soon as the last is answered, for `duration` seconds or `amount` requests.
 */
export function loadPurchases(
  url: string,
  {
    connections,
    duration,
    amount,
    bodies = purchaseBodies(),
  }: {
    connections: number;
    duration?: number;
    amount?: number;
    bodies?: string[];
  },
): Promise<LoadResult> {
  const latencies: number[] = [];
  const answered: string[] = [];
  const onResponse = (status: number, body: string) => {
    if (status === 201) answered.push(body);
  };
  const startMs = now();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${url}/purchases`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        connections,
        ...(amount !== undefined ? { amount } : { duration }),
        requests: bodies.map((body) => ({ body, onResponse })),
      },
      (err: unknown, result: autocannon.Result) => {
        if (err)
          return reject(
            err instanceof Error ? err : new Error('autocannon failed'),
          );
        const endMs = now();
        const statuses: Record<string, number> = {};
        for (const [code, { count }] of Object.entries(
          result.statusCodeStats ?? {},
        ))
          statuses[code] = count ?? 0;
        resolve({
          startMs,
          endMs,
          statuses,
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          latencies,
          // The body is parsed after the load, not while it runs in this process.
          answered: answered.map(
            (text) => (JSON.parse(text) as { orderId: string }).orderId,
          ),
        });
      },
    );
    instance.on('response', (_client, status, _bytes, responseTime) => {
      if (status >= 200 && status < 300) latencies.push(responseTime);
    });
  });
}
