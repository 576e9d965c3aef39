import { randomInt } from 'node:crypto';

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

export class MalformedOrderError extends Error {}

/**
 * Reads an order hash written by podium or by any other program speaking the seed's
 * protocol. Throws MalformedOrderError naming the first bad field.
 */
export function orderFromHash(orderId: string, hash: OrderHash): Order {
  const field = (name: string): string => {
    const value = hash[name];
    if (value === undefined || value === '') throw new MalformedOrderError(`order ${orderId}: field "${name}" is missing`);
    return value;
  };
  const qty = Number(field('qty'));
  if (!Number.isInteger(qty) || qty < 1) throw new MalformedOrderError(`order ${orderId}: field "qty" is not an integer >= 1`);
  const cost = field('cost');
  if (!DECIMAL.test(cost)) throw new MalformedOrderError(`order ${orderId}: field "cost" is not a decimal number`);
  const ts = Number(field('ts'));
  if (!Number.isFinite(ts) || ts < 0) throw new MalformedOrderError(`order ${orderId}: field "ts" is not epoch seconds`);
  return { orderId, who: field('who'), qty, cost, event: field('event'), ts: Math.floor(ts) };
}

const DECIMAL = /^\d+(\.\d+)?$/;

// Upper-case letters and digits, like the seed's ids ("9I1CHS"). The first character is a
// letter so an id is never all digits (BullMQ rejects those as job ids) and holds no ':'.
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const ALPHANUMERIC = `${LETTERS}0123456789`;

export function newOrderId(length = 12): string {
  let id = LETTERS[randomInt(LETTERS.length)];
  while (id.length < length) id += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return id;
}

/** Order ids that podium accepts on the wire: printable, no whitespace, bounded. */
export function isPlausibleOrderId(value: string): boolean {
  return value.length > 0 && value.length <= 128 && /^[\x21-\x7e]+$/.test(value);
}

/** Money is handled in integer cents so that qty x price has no float error. */
export function parsePriceToCents(price: number): number {
  const cents = Math.round(price * 100);
  if (!Number.isFinite(price) || price < 0 || Math.abs(cents - price * 100) > 1e-6) {
    throw new RangeError('price must be a non-negative amount with at most two decimals');
  }
  return cents;
}

export function formatCents(cents: number): string {
  const whole = Math.trunc(cents / 100);
  const rest = cents % 100;
  if (rest === 0) return String(whole);
  return `${whole}.${String(rest).padStart(2, '0').replace(/0$/, '')}`;
}
