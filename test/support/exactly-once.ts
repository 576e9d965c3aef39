import type { Redis } from 'ioredis';
import {
  appliedKey,
  eventKey,
  idempotencyKey,
  invoicesKey,
  orderKey,
  OPENING_CEREMONY,
  OUTBOX,
  SALES_SUMMARY,
  salesSummaryField,
} from '@podium/orders';
import { GroupQueues, jobOrders } from '@podium/queues';
import { waitFor } from '@podium/testing';
import type { Bought } from './purchase-stream.js';

/** The seed's sales_summary fields that the orders should add up to. */
function expectedSummary(
  orders: Bought[],
  events: string[],
): Record<string, number> {
  const summary: Record<string, number> = {};
  for (const event of events) {
    const of = orders.filter((o) => o.event === event);
    summary[salesSummaryField.totalSales(event)] = of.reduce(
      (sum, o) => sum + o.cost,
      0,
    );
    summary[salesSummaryField.ticketsSold(event)] = of.reduce(
      (sum, o) => sum + o.qty,
      0,
    );
  }
  summary[salesSummaryField.openingCeremonyOrders] = orders.filter(
    (o) => o.event === OPENING_CEREMONY,
  ).length;
  return summary;
}

async function summaryNow(
  redis: Redis,
  fields: string[],
): Promise<Record<string, number>> {
  const values = await redis.hmget(SALES_SUMMARY, ...fields);
  return Object.fromEntries(fields.map((f, i) => [f, Number(values[i] ?? 0)]));
}

/** The orders sales-summary has not applied, with what Redis holds of each: for a failing test's message. */
async function notApplied(redis: Redis, bought: Bought[]): Promise<unknown[]> {
  const extra = await extraOrders(redis, bought);
  const missing = [];
  for (const { orderId } of bought)
    if ((await redis.hget(appliedKey(orderId), 'sales-summary')) !== '1')
      missing.push(orderId);
  if (missing.length === 0) return extra;
  const queues = new GroupQueues(() => redis.duplicate());
  try {
    const jobs = await queues
      .get('durable')
      .getJobs(['wait', 'active', 'completed', 'failed', 'delayed']);
    const outbox = await redis.zrange(OUTBOX, 0, -1);
    const notAppliedOrders = await Promise.all(
      missing.map(async (orderId) => ({
        orderId,
        recorded: await redis.exists(orderKey(orderId)),
        markers: await redis.hgetall(appliedKey(orderId)),
        outbox: outbox.filter((entry) => entry.endsWith(` ${orderId}`)),
        jobs: await Promise.all(
          jobs
            .filter((job) => jobOrders(job.data).includes(orderId))
            .map(async (job) => ({
              id: job.id,
              state: await job.getState(),
              attemptsMade: job.attemptsMade,
              failedReason: job.failedReason,
            })),
        ),
      })),
    );
    return [...notAppliedOrders, ...extra];
  } finally {
    await queues.close();
  }
}

/** Orders recorded that no client holds a 201 for, with their markers and the Idempotency-Keys naming them. */
async function extraOrders(redis: Redis, bought: Bought[]): Promise<unknown[]> {
  const held = new Set(bought.map((o) => o.orderId));
  const extra = (await recordedOrderIds(redis)).filter((id) => !held.has(id));
  if (extra.length === 0) return [];
  const keys: Record<string, string> = {};
  for await (const found of redis.scanStream({
    match: idempotencyKey('*'),
    count: 1000,
  }) as AsyncIterable<string[]>)
    for (const key of found) {
      const orderId = await redis.hget(key, 'order_id');
      if (orderId && extra.includes(orderId)) keys[orderId] = key;
    }
  return Promise.all(
    extra.map(async (orderId) => ({
      extraOrder: await redis.hgetall(orderKey(orderId)),
      markers: await redis.hgetall(appliedKey(orderId)),
      idempotencyKey: keys[orderId] ?? null,
    })),
  );
}

/** Order ids of every order hash in Redis. */
export async function recordedOrderIds(redis: Redis): Promise<string[]> {
  const ids: string[] = [];
  for await (const keys of redis.scanStream({
    match: 'purchase_order_details:*',
    count: 1000,
  }) as AsyncIterable<string[]>)
    ids.push(...keys.map((k) => k.slice('purchase_order_details:'.length)));
  return ids.sort();
}

/**
 * Every order answered 201, and no other, is recorded and applied once by the durable
 * listeners: the sales_summary totals are the sums of those orders (waited for: jobs a
 * failover left behind run again once their locks expire, orders left in the outbox are
 * re-driven), each customer's invoices set holds exactly their orders, and each event's
 * `sold` counts the tickets of the recorded orders.
 */
export async function expectAppliedOnce(
  redis: Redis,
  bought: Bought[],
  events: string[],
  timeoutMs = 30_000,
): Promise<void> {
  const expected = expectedSummary(bought, events);
  const fields = Object.keys(expected);
  let last: Record<string, number> = {};
  await waitFor(
    async () => {
      last = await summaryNow(redis, fields);
      return fields.every((f) => last[f] === expected[f]);
    },
    { what: 'sales_summary to add up to the orders answered 201', timeoutMs },
  ).catch(async () => {
    throw new Error(
      `sales_summary ${JSON.stringify(last)}, expected ${JSON.stringify(expected)} (${bought.length} orders answered 201); ` +
        `not applied by sales-summary: ${JSON.stringify(await notApplied(redis, bought))}`,
    );
  });
  await waitFor(async () => (await redis.exists(OUTBOX)) === 0, {
    what: 'the outbox to empty',
    timeoutMs,
  });
  // Nothing more arrives later (a duplicate applied twice would show here).
  expect(await summaryNow(redis, fields)).toEqual(expected);
  expect(await recordedOrderIds(redis)).toEqual(
    bought.map((o) => o.orderId).sort(),
  );
  for (const event of events) {
    const tickets = bought
      .filter((o) => o.event === event)
      .reduce((sum, o) => sum + o.qty, 0);
    expect(Number(await redis.hget(eventKey(event), 'sold'))).toBe(tickets);
  }
  for (const who of new Set(bought.map((o) => o.who))) {
    expect((await redis.smembers(invoicesKey(who))).sort()).toEqual(
      bought
        .filter((o) => o.who === who)
        .map((o) => o.orderId)
        .sort(),
    );
  }
}
