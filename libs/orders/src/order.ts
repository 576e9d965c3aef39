import { MalformedMessageError, newMessageId } from '@podium/core';

/** A purchase order as stored in `purchase_order_details:<order_id>` (the seed's hash). */
export interface Order {
  orderId: string;
  who: string;
  qty: number;
  /** Decimal text, as summed by HINCRBYFLOAT: "40", "12.5". */
  cost: string;
  event: string;
  /** Epoch seconds. */
  ts: number;
}

export type OrderHash = Record<string, string>;

export function orderToHash(order: Order): OrderHash {
  return {
    order_id: order.orderId,
    who: order.who,
    qty: String(order.qty),
    cost: order.cost,
    event: order.event,
    ts: String(order.ts),
  };
}

/** An order hash that is not a valid order (a poison order: every listener rejects it). */
export class MalformedOrderError extends MalformedMessageError {}

/** Largest qty an order may carry: what a listener's counters (HINCRBY, BITFIELD u32) take without loss. */
export const MAX_ORDER_QTY = 2 ** 31 - 1;
/** Latest ts an order may carry: the end of year 9999 (a Date, and so an hour of day, exists for it). */
export const MAX_ORDER_TS = 253_402_300_799;

/**
 * Reads an order hash written by podium or by any other program speaking the seed's
 * protocol, and validates it once for every listener: an order whose fields are out of
 * range is rejected the same way by all of them, never half-applied. Throws
 * MalformedOrderError naming the first bad field.
 */
export function orderFromHash(orderId: string, hash: OrderHash): Order {
  const field = (name: string): string => {
    const value = hash[name];
    if (value === undefined || value === '')
      throw new MalformedOrderError(
        `order ${orderId}: field "${name}" is missing`,
      );
    return value;
  };
  const qtyText = field('qty');
  const qty = Number(qtyText);
  if (!/^\d+$/.test(qtyText) || qty < 1 || qty > MAX_ORDER_QTY) {
    throw new MalformedOrderError(
      `order ${orderId}: field "qty" is not an integer from 1 to ${MAX_ORDER_QTY}`,
    );
  }
  const cost = field('cost');
  if (!DECIMAL.test(cost))
    throw new MalformedOrderError(
      `order ${orderId}: field "cost" is not a decimal number`,
    );
  const tsText = field('ts');
  const ts = Number(tsText);
  if (!DECIMAL.test(tsText) || ts > MAX_ORDER_TS) {
    throw new MalformedOrderError(
      `order ${orderId}: field "ts" is not epoch seconds from 0 to ${MAX_ORDER_TS}`,
    );
  }
  return {
    orderId,
    who: field('who'),
    qty,
    cost,
    event: field('event'),
    ts: Math.floor(ts),
  };
}

// At most 15 digits before the point: HINCRBYFLOAT sums them without losing cents.
const DECIMAL = /^\d{1,15}(\.\d+)?$/;

/**
 * A new order id: podium's message id, upper-case letters and digits like the seed's ids
 * ("9I1CHS"), a letter first. On a cluster the publisher makes ids placed in their event's
 * slot instead (see ORDER's placedBy).
 */
export const newOrderId = (): string => newMessageId();

/** Money is handled in integer cents so that qty x price has no float error. */
export function parsePriceToCents(price: number): number {
  const cents = Math.round(price * 100);
  if (
    !Number.isFinite(price) ||
    price < 0 ||
    Math.abs(cents - price * 100) > 1e-6
  ) {
    throw new RangeError(
      'price must be a non-negative amount with at most two decimals',
    );
  }
  return cents;
}

export function formatCents(cents: number): string {
  const whole = Math.trunc(cents / 100);
  const rest = cents % 100;
  if (rest === 0) return String(whole);
  return `${whole}.${String(rest).padStart(2, '0').replace(/0$/, '')}`;
}
