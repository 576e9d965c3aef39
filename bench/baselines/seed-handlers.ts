/**
 * The seed's listener logic (shared/seed/pubsub-olympics.md), written plainly on ioredis:
 * HGETALL the order, then one pipeline of writes. Baselines (a), (b) and (c) run these
 * handlers; (d) queues the same writes, a batch of orders at a time, on a MULTI.
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
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from '@podium/redis';
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
  OPENING_CEREMONY,
} from '@podium/orders';
import {
  BENCH_ALERTS_MAX,
  SLOW_LISTENER,
  SLOW_LISTENER_MS,
  type Variant,
} from '../lib/model.js';

export type OrderHash = Record<string, string>;

export interface SeedListener {
  name: string;
  /** SUBSCRIBE to this channel... */
  channel?: string;
  /** ...or PSUBSCRIBE to this pattern. */
  pattern?: string;
  /** The seed's handler: reads what it needs, writes the order's effects. True when it wrote them. */
  handle(redis: RedisClient, orderId: string): Promise<boolean>;
  /**
   * The same writes for one order the listener acts on, queued on a pipeline or a MULTI.
   * `count`: for a listener with a `counter`, the counter's value before this order.
   */
  write(
    m: ChainableCommander,
    orderId: string,
    order: OrderHash,
    count: number,
  ): void;
  /** A counter the writes depend on (the lottery's every 5th order), which only this listener writes. */
  counter?: { key: string; field: string };
  /** Waits before writing (the slow listener of scenario 4). */
  delayMs?: number;
}

async function readOrder(
  redis: RedisClient,
  orderId: string,
): Promise<OrderHash> {
  const hash = await redis.hgetall(orderKey(orderId));
  if (!hash.event) throw new Error(`no order ${orderId}`);
  return hash;
}

export async function exec(pipeline: ChainableCommander): Promise<void> {
  for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
}

/** The usual handler: HGETALL the order, then its writes in one pipeline. */
async function readThenWrite(
  listener: SeedListener,
  redis: RedisClient,
  orderId: string,
): Promise<boolean> {
  const o = await readOrder(redis, orderId);
  if (listener.delayMs) await sleep(listener.delayMs);
  const pipeline = redis.pipeline();
  listener.write(pipeline, orderId, o, 0);
  await exec(pipeline);
  return true;
}

const histogram: SeedListener = {
  name: 'sales-histogram',
  channel: ORDERS_CHANNEL,
  handle(redis, orderId) {
    return readThenWrite(this, redis, orderId);
  },
  write(m, _orderId, o) {
    const increment = histogramIncrementArgs(
      'u32',
      hourOfDay(Number(o.ts)),
      Number(o.qty),
    );
    m.call('BITFIELD', HISTOGRAM_ALL_EVENTS, ...increment).call(
      'BITFIELD',
      eventHistogramKey(o.event),
      ...increment,
    );
  },
};

const summary: SeedListener = {
  name: 'sales-summary',
  channel: ORDERS_CHANNEL,
  handle(redis, orderId) {
    return readThenWrite(this, redis, orderId);
  },
  write(m, orderId, o) {
    m.sadd(salesSetKey(o.event), orderId)
      .hincrbyfloat(
        SALES_SUMMARY,
        salesSummaryField.totalSales(o.event),
        o.cost,
      )
      .hincrby(SALES_SUMMARY, salesSummaryField.ticketsSold(o.event), o.qty);
  },
};

const invoices = (slow: boolean): SeedListener => ({
  name: slow ? SLOW_LISTENER : 'customer-invoices',
  channel: ORDERS_CHANNEL,
  ...(slow && { delayMs: SLOW_LISTENER_MS }),
  handle(redis, orderId) {
    return readThenWrite(this, redis, orderId);
  },
  write(m, orderId, o) {
    m.sadd(invoicesKey(o.who), orderId);
  },
});

const isWinner = (total: number) => total % 5 === 0;
const announceWinner = (orderId: string) =>
  console.log(
    `===> Winner!!!!! Opening Ceremony Lottery - Order Id: ${orderId}`,
  );

const lottery: SeedListener = {
  name: 'opening-ceremony-lottery',
  channel: eventChannel(OPENING_CEREMONY),
  counter: {
    key: SALES_SUMMARY,
    field: salesSummaryField.openingCeremonyOrders,
  },
  // The seed's way: the increment's reply decides the winner (it reads no order).
  async handle(redis, orderId) {
    const total = await redis.hincrby(
      SALES_SUMMARY,
      salesSummaryField.openingCeremonyOrders,
      1,
    );
    if (isWinner(total)) {
      await redis.rpush(LOTTERY_WINNERS, orderId);
      announceWinner(orderId);
    }
    return true;
  },
  write(m, orderId, _o, count) {
    m.hincrby(SALES_SUMMARY, salesSummaryField.openingCeremonyOrders, 1);
    if (isWinner(count + 1)) {
      m.rpush(LOTTERY_WINNERS, orderId);
      announceWinner(orderId);
    }
  },
};

const alerts: SeedListener = {
  name: 'event-alerts',
  pattern: `${eventChannel('')}*`,
  async handle(redis, orderId) {
    const o = await readOrder(redis, orderId);
    if (o.event === OPENING_CEREMONY) return false;
    const pipeline = redis.pipeline();
    this.write(pipeline, orderId, o, 0);
    await exec(pipeline);
    return true;
  },
  write(m, orderId, o) {
    const message = `Purchase ${o.event}: #${o.qty} $${o.cost}`;
    console.log(message);
    const alert = {
      orderId,
      event: o.event,
      qty: Number(o.qty),
      cost: o.cost,
      ts: Number(o.ts),
      message,
    };
    m.lpush(ALERTS, JSON.stringify(alert)).ltrim(
      ALERTS,
      0,
      BENCH_ALERTS_MAX - 1,
    );
  },
};

export function seedListeners(variant: Variant): SeedListener[] {
  return [histogram, summary, invoices(variant === 'slow'), lottery, alerts];
}
