/**
 * The seed's listener logic (shared/seed/pubsub-olympics.md), written plainly on ioredis:
 * HGETALL the order, then one pipeline of writes. Both baselines run these handlers.
 *
 * They write the same keys as podium's listeners, so one set of checks covers every system:
 * - histograms use podium's default u32 layout (the seed's u8 wraps after 255 tickets an hour);
 * - the lottery also RPUSHes winners to lottery:winners, and the alerter LPUSHes its alert to
 *   `alerts` (the seed only prints them; podium keeps them);
 * - the alerter skips Opening Ceremony orders in code, as podium does (the seed's pattern
 *   `purchase_orders[^(Opening Ceremony)]*` excludes nothing).
 * What they do not do is what podium adds: the applied marker, the stats, the Lua guard.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import {
  ALERTS,
  eventChannel,
  eventHistogramKey,
  HISTOGRAM_ALL_EVENTS,
  histogramIncrementArgs,
  hourOfDay,
  invoicesKey,
  LOTTERY_WINNERS,
  orderKey,
  ORDERS_CHANNEL,
  SALES_SUMMARY,
  salesSetKey,
  salesSummaryField,
} from '@podium/orders';
import { BENCH_ALERTS_MAX, OPENING_CEREMONY, SLOW_LISTENER, SLOW_LISTENER_MS, type Variant } from '../lib/model.js';

export interface SeedListener {
  name: string;
  /** SUBSCRIBE to this channel... */
  channel?: string;
  /** ...or PSUBSCRIBE to this pattern. */
  pattern?: string;
  /** True when the order's effects were written. */
  handle(redis: Redis, orderId: string): Promise<boolean>;
}

type Hash = Record<string, string>;

async function order(redis: Redis, orderId: string): Promise<Hash> {
  const hash = await redis.hgetall(orderKey(orderId));
  if (!hash.event) throw new Error(`no order ${orderId}`);
  return hash;
}

async function exec(pipeline: ReturnType<Redis['pipeline']>): Promise<void> {
  for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
}

const histogram: SeedListener = {
  name: 'sales-histogram',
  channel: ORDERS_CHANNEL,
  async handle(redis, orderId) {
    const o = await order(redis, orderId);
    const increment = histogramIncrementArgs('u32', hourOfDay(Number(o.ts)), Number(o.qty));
    await exec(
      redis
        .pipeline()
        .call('BITFIELD', HISTOGRAM_ALL_EVENTS, ...increment)
        .call('BITFIELD', eventHistogramKey(o.event), ...increment),
    );
    return true;
  },
};

const summary: SeedListener = {
  name: 'sales-summary',
  channel: ORDERS_CHANNEL,
  async handle(redis, orderId) {
    const o = await order(redis, orderId);
    await exec(
      redis
        .pipeline()
        .sadd(salesSetKey(o.event), orderId)
        .hincrbyfloat(SALES_SUMMARY, salesSummaryField.totalSales(o.event), o.cost)
        .hincrby(SALES_SUMMARY, salesSummaryField.ticketsSold(o.event), o.qty),
    );
    return true;
  },
};

const invoices = (slow: boolean): SeedListener => ({
  name: slow ? SLOW_LISTENER : 'customer-invoices',
  channel: ORDERS_CHANNEL,
  async handle(redis, orderId) {
    const o = await order(redis, orderId);
    if (slow) await sleep(SLOW_LISTENER_MS);
    await exec(redis.pipeline().sadd(invoicesKey(o.who), orderId));
    return true;
  },
});

const lottery: SeedListener = {
  name: 'opening-ceremony-lottery',
  channel: eventChannel(OPENING_CEREMONY),
  async handle(redis, orderId) {
    const total = await redis.hincrby(SALES_SUMMARY, salesSummaryField.openingCeremonyOrders, 1);
    if (total % 5 === 0) {
      await redis.rpush(LOTTERY_WINNERS, orderId);
      console.log(`===> Winner!!!!! Opening Ceremony Lottery - Order Id: ${orderId}`);
    }
    return true;
  },
};

const alerts: SeedListener = {
  name: 'event-alerts',
  pattern: `${eventChannel('')}*`,
  async handle(redis, orderId) {
    const o = await order(redis, orderId);
    if (o.event === OPENING_CEREMONY) return false;
    const message = `Purchase ${o.event}: #${o.qty} $${o.cost}`;
    console.log(message);
    const alert = { orderId, event: o.event, qty: Number(o.qty), cost: o.cost, ts: Number(o.ts), message };
    await exec(redis.pipeline().lpush(ALERTS, JSON.stringify(alert)).ltrim(ALERTS, 0, BENCH_ALERTS_MAX - 1));
    return true;
  },
};

export function seedListeners(variant: Variant): SeedListener[] {
  return [histogram, summary, invoices(variant === 'slow'), lottery, alerts];
}
