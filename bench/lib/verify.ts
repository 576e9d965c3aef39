/**
 * Checks the metric keys against the orders made, after a run: what every listener wrote,
 * compared with what it should have written. Every order buys one ticket, so each counter
 * counts orders; sets and lists name the orders. Nothing here trusts the listeners' own
 * accounting (markers, stats, the bench's samples).
 */
import { PlacedReads, type RedisClient } from '@podium/redis';
import { Keyspace, listenerStatsKey } from '@podium/core';
import {
  ALERTS,
  eventHistogramKey,
  HISTOGRAM_ALL_EVENTS,
  histogramReadArgs,
  invoicesKey,
  LOTTERY_WINNERS,
  SALES_SUMMARY,
  salesSetKey,
  salesSummaryField,
  type Order,
  OPENING_CEREMONY,
} from '@podium/orders';
import {
  CUSTOMERS,
  EVENTS,
  listenerNames,
  PRICE,
  SLOW_LISTENER,
  type Variant,
} from './model.js';

export interface ListenerCheck {
  listener: string;
  /** Orders this listener should have applied. */
  expected: number;
  /** Orders whose effect is there (by id where the keys name orders, else by count). */
  applied: number;
  /** Not applied but still waiting when the run ended (a queue, or the process's backlog). */
  queued: number;
  /** Not applied and not waiting anywhere. */
  lost: number;
  double: number;
  /** How lost/double were established. */
  evidence: string;
}

export interface Verification {
  listeners: ListenerCheck[];
  /** The worst listener's lost orders. */
  lost: number;
  /** Double-counted orders, over all listeners. */
  double: number;
  /** Anything that does not add up (a key that disagrees with another, an unexpected id). */
  problems: string[];
  /** podium's own counters (podium:stats:<listener>), for information. */
  podiumStats?: Record<string, Record<string, number>>;
}

/** The reads the checks make: of the one key on one Redis, of its parts added up on a cluster (PlacedReads). */
interface EffectReads {
  hgetall(key: string): Promise<Record<string, string>>;
  smembers(key: string): Promise<string[]>;
  bitfield(key: string, args: string[]): Promise<number[]>;
  lrange(key: string): Promise<string[]>;
}

function effectReads(redis: RedisClient, keys: Keyspace): EffectReads {
  if (!keys.isCluster)
    return {
      hgetall: (key) => redis.hgetall(key),
      smembers: (key) => redis.smembers(key),
      bitfield: async (key, args) =>
        (await redis.call('BITFIELD', key, ...args)) as number[],
      lrange: (key) => redis.lrange(key, 0, -1),
    };
  const placed = new PlacedReads(redis, keys);
  return {
    hgetall: async (key) =>
      Object.fromEntries(
        Object.entries(await placed.hashSums(key)).map(([f, v]) => [
          f,
          String(v),
        ]),
      ),
    smembers: (key) => placed.setMembers(key),
    bitfield: (key, args) => placed.bitfieldSums(key, args),
    lrange: (key) => placed.listRange(key, 0, -1),
  };
}

const hasPodiumStats = (stats: Record<string, string>) =>
  Object.keys(stats).length > 0;

/**
 * `queued`: per listener (by name), orders still waiting to be applied when the run ended;
 * they are not applied and are not counted as lost.
 */
export async function verify(
  redis: RedisClient,
  orders: readonly Order[],
  variant: Variant,
  queued: Record<string, number> = {},
  keys: Keyspace = Keyspace.singleRedis,
): Promise<Verification> {
  const reads = effectReads(redis, keys);
  const problems: string[] = [];
  const all = new Set(orders.map((o) => o.orderId));
  const byEvent = new Map<string, Set<string>>(
    EVENTS.map((e) => [e, new Set<string>()]),
  );
  for (const o of orders) byEvent.get(o.event)!.add(o.orderId);
  const oc = byEvent.get(OPENING_CEREMONY)!;
  const notOc = new Set(
    orders.filter((o) => o.event !== OPENING_CEREMONY).map((o) => o.orderId),
  );

  const summary = await reads.hgetall(SALES_SUMMARY);
  const listeners: ListenerCheck[] = [];

  // sales-summary: sets sales:<event> name the orders; the two counters count them.
  {
    let present = 0;
    let double = 0;
    for (const event of EVENTS) {
      const members = await reads.smembers(salesSetKey(event));
      const mine = members.filter((id) => byEvent.get(event)!.has(id)).length;
      if (mine !== members.length)
        problems.push(
          `sales:${event} holds ${members.length - mine} ids of other events or unknown orders`,
        );
      present += mine;
      const tickets = Number(
        summary[salesSummaryField.ticketsSold(event)] ?? 0,
      );
      const sales = Number(summary[salesSummaryField.totalSales(event)] ?? 0);
      if (tickets > members.length) double += tickets - members.length;
      if (tickets < members.length)
        problems.push(
          `${event}: ${members.length} orders in sales:${event} but ${tickets} tickets counted`,
        );
      if (Math.abs(sales - tickets * PRICE) > 1e-6)
        problems.push(
          `${event}: total_sales ${sales} is not ${PRICE} x ${tickets} tickets`,
        );
    }
    listeners.push({
      listener: 'sales-summary',
      expected: all.size,
      applied: present,
      queued: 0,
      lost: all.size - present,
      double,
      evidence:
        'ids in sales:<event>; tickets counted beyond them are double counts',
    });
  }

  // customer-invoices (or its slow copy): sets invoices:<who>. SADD cannot count twice.
  {
    const members = new Set<string>();
    for (const who of CUSTOMERS)
      for (const id of await reads.smembers(invoicesKey(who))) members.add(id);
    const present = [...members].filter((id) => all.has(id)).length;
    if (present !== members.size)
      problems.push(
        `invoices hold ${members.size - present} unknown order ids`,
      );
    listeners.push({
      listener: variant === 'slow' ? SLOW_LISTENER : 'customer-invoices',
      expected: all.size,
      applied: present,
      queued: 0,
      lost: all.size - present,
      double: 0,
      evidence: 'ids in invoices:<who> (a set: a repeat cannot show)',
    });
  }

  // sales-histogram: counters only; per event, more than expected is double, fewer is lost.
  {
    const read = async (key: string) =>
      (await reads.bitfield(key, histogramReadArgs('u32'))).reduce(
        (a, b) => a + Number(b),
        0,
      );
    let lost = 0;
    let double = 0;
    let perEventTotal = 0;
    for (const event of EVENTS) {
      const counted = await read(eventHistogramKey(event));
      perEventTotal += counted;
      const expected = byEvent.get(event)!.size;
      if (counted < expected) lost += expected - counted;
      else double += counted - expected;
    }
    const total = await read(HISTOGRAM_ALL_EVENTS);
    if (total !== perEventTotal)
      problems.push(
        `histogram: all events count ${total}, the events' histograms ${perEventTotal}`,
      );
    listeners.push({
      listener: 'sales-histogram',
      expected: all.size,
      applied: all.size - lost + double,
      queued: 0,
      lost,
      double,
      evidence:
        'ticket counts per event (net: a loss and a double in one event would cancel)',
    });
  }

  // opening-ceremony-lottery: the order counter, and every 5th order in lottery:winners.
  {
    const counted = Number(
      summary[salesSummaryField.openingCeremonyOrders] ?? 0,
    );
    const winners = await reads.lrange(LOTTERY_WINNERS);
    const strangers = winners.filter((id) => !oc.has(id)).length;
    if (strangers > 0)
      problems.push(
        `lottery:winners holds ${strangers} ids that are not Opening Ceremony orders`,
      );
    if (new Set(winners).size !== winners.length)
      problems.push('lottery:winners names an order twice');
    if (winners.length !== Math.floor(counted / 5))
      problems.push(
        `lottery: ${winners.length} winners for ${counted} orders counted`,
      );
    listeners.push({
      listener: 'opening-ceremony-lottery',
      expected: oc.size,
      applied: counted,
      queued: 0,
      lost: Math.max(0, oc.size - counted),
      double: Math.max(0, counted - oc.size),
      evidence:
        'Opening Ceremony:total_orders (net), lottery:winners consistent with it',
    });
  }

  // event-alerts: list alerts names the orders (ALERTS_MAX is raised so none is trimmed).
  {
    const alerts = await reads.lrange(ALERTS);
    const ids = alerts.map((json) => {
      try {
        return String((JSON.parse(json) as { orderId: unknown }).orderId);
      } catch {
        return '';
      }
    });
    const distinct = new Set(ids);
    const present = [...distinct].filter((id) => notOc.has(id)).length;
    if (present !== distinct.size)
      problems.push(
        `alerts name ${distinct.size - present} orders they should not (Opening Ceremony or unknown)`,
      );
    listeners.push({
      listener: 'event-alerts',
      expected: notOc.size,
      applied: present,
      queued: 0,
      lost: notOc.size - present,
      double: ids.length - distinct.size,
      evidence: 'order ids in list alerts',
    });
  }

  for (const check of listeners) {
    check.queued = Math.min(check.lost, queued[check.listener] ?? 0);
    check.lost -= check.queued;
  }
  const order = listenerNames(variant);
  listeners.sort(
    (a, b) => order.indexOf(a.listener) - order.indexOf(b.listener),
  );

  let podiumStats: Verification['podiumStats'];
  for (const name of order) {
    const stats = await reads.hgetall(listenerStatsKey(name));
    if (!hasPodiumStats(stats)) continue;
    podiumStats ??= {};
    podiumStats[name] = Object.fromEntries(
      Object.entries(stats).map(([k, v]) => [k, Number(v)]),
    );
  }

  return {
    listeners,
    lost: Math.max(...listeners.map((l) => l.lost)),
    double: listeners.reduce((sum, l) => sum + l.double, 0),
    problems,
    ...(podiumStats && { podiumStats }),
  };
}

/**
 * Effects applied so far per listener, read cheaply from the same keys (counts, no ids),
 * for waiting on a recovery when no single process saw everything.
 */
export async function appliedInRedis(
  redis: RedisClient,
  variant: Variant,
): Promise<number[]> {
  const pipeline = redis.pipeline();
  for (const event of EVENTS) pipeline.scard(salesSetKey(event));
  for (const who of CUSTOMERS) pipeline.scard(invoicesKey(who));
  pipeline.call('BITFIELD', HISTOGRAM_ALL_EVENTS, ...histogramReadArgs('u32'));
  pipeline.hget(SALES_SUMMARY, salesSummaryField.openingCeremonyOrders);
  pipeline.llen(ALERTS);
  const replies = ((await pipeline.exec()) ?? []).map(([, value]) => value);
  let k = 0;
  const take = (n: number) => replies.slice(k, (k += n));
  const summary = take(EVENTS.length).reduce(
    (a: number, b) => a + Number(b),
    0,
  );
  const invoices = take(CUSTOMERS.length).reduce(
    (a: number, b) => a + Number(b),
    0,
  );
  const histogram = (take(1)[0] as number[]).reduce((a, b) => a + Number(b), 0);
  const lottery = Number(take(1)[0] ?? 0);
  const alerts = Number(take(1)[0]);
  const byName: Record<string, number> = {
    'sales-histogram': histogram,
    'sales-summary': summary,
    'customer-invoices': invoices,
    [SLOW_LISTENER]: invoices,
    'opening-ceremony-lottery': lottery,
    'event-alerts': alerts,
  };
  return listenerNames(variant).map((name) => byName[name]);
}
