import { Cluster } from 'ioredis';
import {
  appliedKey,
  idempotencyKey,
  Keyspace,
  listenerStatsKey,
  OUTBOX,
  GroupQueues,
  jobMessageIds,
  readRecordPlaces,
} from '@podium/core';
import {
  ALERTS,
  eventKey,
  invoicesKey,
  orderKey,
  OPENING_CEREMONY,
  SALES_SUMMARY,
  salesSummaryField,
  ORDER,
} from '@podium/orders';
import { waitFor, type Bought } from '@podium/testing';
import { PlacedReads, scanKeys, type RedisClient } from '@podium/redis';

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

/**
 * Where the listeners' effects and podium's keys are, read as the apps read them: on one
 * Redis the keys as named; on a cluster through a Cluster client, the effects' parts added
 * up (PlacedReads) and each place of the record path's outbox (see docs/cluster.md).
 */
function keyspaceOf(redis: RedisClient): Keyspace {
  return redis instanceof Cluster ? Keyspace.cluster : Keyspace.singleRedis;
}

async function summaryNow(
  redis: RedisClient,
  fields: string[],
): Promise<Record<string, number>> {
  const sums = await new PlacedReads(redis, keyspaceOf(redis)).hashSums(
    SALES_SUMMARY,
  );
  return Object.fromEntries(fields.map((f) => [f, sums[f] ?? 0]));
}

/** The outbox's keys: one on one Redis, one per place of the record path on a cluster. */
async function outboxKeys(redis: RedisClient): Promise<string[]> {
  const keys = keyspaceOf(redis);
  return (await readRecordPlaces(redis, keys)).map((place) =>
    keys.key(place, OUTBOX),
  );
}

/** An order's applied markers (on a cluster its effects' part holds the listeners' ones, its own slot the queued ones). */
async function markersOf(
  redis: RedisClient,
  orderId: string,
): Promise<Record<string, string>> {
  const keys = keyspaceOf(redis);
  const places = new Set([
    keys.recordPlace(ORDER, orderId),
    keys.effectsPlace(orderId, false),
    keys.effectsPlace(orderId, true),
  ]);
  const all = await Promise.all(
    [...places].map((place) =>
      redis.hgetall(keys.key(place, appliedKey(orderId))),
    ),
  );
  return Object.assign({}, ...all) as Record<string, string>;
}

/** The orders sales-summary has not applied, with what Redis holds of each: for a failing test's message. */
async function notApplied(
  redis: RedisClient,
  bought: Bought[],
): Promise<unknown[]> {
  const extra = await extraOrders(redis, bought);
  const missing = [];
  for (const { orderId } of bought)
    if ((await markersOf(redis, orderId))['sales-summary'] !== '1')
      missing.push(orderId);
  if (missing.length === 0) return extra;
  const keys = keyspaceOf(redis);
  const queues = new GroupQueues(() => redis.duplicate(), keys);
  try {
    const jobs = await queues
      .get('durable')
      .getJobs(['wait', 'active', 'completed', 'failed', 'delayed']);
    const outbox: string[] = [];
    for (const key of await outboxKeys(redis))
      outbox.push(...(await redis.zrange(key, 0, -1)));
    const notAppliedOrders = await Promise.all(
      missing.map(async (orderId) => ({
        orderId,
        recorded: await redis.exists(orderKey(orderId)),
        markers: await markersOf(redis, orderId),
        outbox: outbox.filter((entry) => entry.endsWith(` ${orderId}`)),
        jobs: await Promise.all(
          jobs
            .filter((job) => jobMessageIds(job.data).includes(orderId))
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

/** Orders recorded that no client holds a 201 for, with their markers and the Idempotency-Key naming each. */
async function extraOrders(
  redis: RedisClient,
  bought: Bought[],
): Promise<unknown[]> {
  const held = new Set(bought.map((o) => o.orderId));
  const extra = (await recordedOrderIds(redis)).filter((id) => !held.has(id));
  if (extra.length === 0) return [];
  const keys: Record<string, string> = {};
  // On a cluster the key has its place in front: {<tag>}:podium:idempotency:<key>.
  for await (const found of scanKeys(redis, `*${idempotencyKey('*')}`, 1000))
    for (const key of found) {
      const orderId = await redis.hget(key, 'order_id');
      if (orderId && extra.includes(orderId)) keys[orderId] = key;
    }
  return Promise.all(
    extra.map(async (orderId) => ({
      extraOrder: await redis.hgetall(orderKey(orderId)),
      markers: await markersOf(redis, orderId),
      idempotencyKey: keys[orderId] ?? null,
    })),
  );
}

/** The orders that more than one of the durable group's jobs carried, with those jobs: where to look for a double. */
async function inSeveralJobs(redis: RedisClient): Promise<unknown[]> {
  const queues = new GroupQueues(() => redis.duplicate(), keyspaceOf(redis));
  try {
    const jobs = await queues
      .get('durable')
      .getJobs(['wait', 'active', 'completed', 'failed', 'delayed']);
    const byOrder = new Map<string, typeof jobs>();
    for (const job of jobs)
      for (const orderId of jobMessageIds(job.data))
        byOrder.set(orderId, [...(byOrder.get(orderId) ?? []), job]);
    const several = [...byOrder].filter(([, of]) => of.length > 1);
    return await Promise.all(
      several.slice(0, 20).map(async ([orderId, of]) => ({
        orderId,
        markers: await markersOf(redis, orderId),
        jobs: await Promise.all(
          of.map(async (job) => ({
            id: job.id,
            orders: jobMessageIds(job.data).length,
            state: await job.getState(),
            attemptsMade: job.attemptsMade,
            processedBy: job.processedBy,
            failedReason: job.failedReason,
            timestamp: job.timestamp,
            finishedOn: job.finishedOn,
          })),
        ),
      })),
    );
  } finally {
    await queues.close();
  }
}

/** The orders event-alerts applied more than once (list alerts, newest first), with where each stands in it and its job. */
async function alertedTwice(redis: RedisClient): Promise<unknown[]> {
  const ids = (await redis.lrange(ALERTS, 0, -1)).map(
    (alert) => (JSON.parse(alert) as { orderId: string }).orderId,
  );
  const twice = [...new Set(ids)].filter(
    (id) => ids.indexOf(id) !== ids.lastIndexOf(id),
  );
  if (twice.length === 0) return [];
  const queues = new GroupQueues(() => redis.duplicate(), keyspaceOf(redis));
  try {
    const jobs = await queues
      .get('durable')
      .getJobs(['wait', 'active', 'completed', 'failed', 'delayed']);
    return await Promise.all(
      twice.map(async (orderId) => ({
        orderId,
        at: ids.flatMap((id, i) => (id === orderId ? [i] : [])),
        of: ids.length,
        jobs: await Promise.all(
          jobs
            .filter((job) => jobMessageIds(job.data).includes(orderId))
            .map(async (job) => ({
              id: job.id,
              orders: jobMessageIds(job.data).length,
              state: await job.getState(),
              attemptsMade: job.attemptsMade,
              stalledCounter: job.stalledCounter,
              processedBy: job.processedBy,
              timestamp: job.timestamp,
              processedOn: job.processedOn,
              finishedOn: job.finishedOn,
            })),
        ),
      })),
    );
  } finally {
    await queues.close();
  }
}

/** Order ids of every order hash in Redis (on a cluster, on every primary). */
export async function recordedOrderIds(redis: RedisClient): Promise<string[]> {
  const ids: string[] = [];
  for await (const keys of scanKeys(redis, 'purchase_order_details:*', 1000))
    ids.push(...keys.map((k) => k.slice('purchase_order_details:'.length)));
  return ids.sort();
}

/**
 * Every order answered 201, and no other, is recorded and applied once by the durable
 * listeners: the sales_summary totals are the sums of those orders (waited for: jobs a
 * failover left behind run again once their locks expire, orders left in the outbox are
 * re-driven), each customer's invoices set holds exactly their orders, and each event's
 * `sold` counts the tickets of the recorded orders. `redis` is one server, or a Cluster
 * client: then the effects' parts are added up and every primary is scanned.
 */
export async function expectAppliedOnce(
  redis: RedisClient,
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
        `not applied by sales-summary: ${JSON.stringify(await notApplied(redis, bought))}; ` +
        `sales-summary's counters: ${JSON.stringify(await redis.hgetall(listenerStatsKey('sales-summary')))}; ` +
        `orders in more than one job: ${JSON.stringify(await inSeveralJobs(redis))}; ` +
        `alerted twice: ${JSON.stringify(await alertedTwice(redis))}`,
    );
  });
  await waitFor(
    async () => {
      for (const key of await outboxKeys(redis))
        if ((await redis.exists(key)) !== 0) return false;
      return true;
    },
    { what: 'the outbox to empty', timeoutMs },
  );
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
  const reads = new PlacedReads(redis, keyspaceOf(redis));
  for (const who of new Set(bought.map((o) => o.who))) {
    expect((await reads.setMembers(invoicesKey(who))).sort()).toEqual(
      bought
        .filter((o) => o.who === who)
        .map((o) => o.orderId)
        .sort(),
    );
  }
}
