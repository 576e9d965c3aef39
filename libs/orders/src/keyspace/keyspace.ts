import { eventKey, orderKey } from '../keys.js';
import { newOrderId } from '../order.js';
import {
  CLUSTER_SLOTS,
  crc16,
  keySlot,
  slotTag,
  STEERING,
  steeredId,
} from '@podium/redis';

/**
 * An order's effects part, from the characters of its id chosen at random: not its last
 * STEERING ones, which steer its hash into its event's slot. CRC16 is linear, so for ids of
 * one length the slot of purchase_order_details:<id> fixes crc16(<id>): parts taken from
 * the whole id put every order of an event in one part (seen in the bench: 4 parts of 16
 * in use, one per event, the hottest 18.5% of all commands).
 */
function effectsPart(orderId: string): number {
  const random =
    orderId.length > STEERING ? orderId.slice(0, -STEERING) : orderId;
  return crc16(random) % EFFECT_PARTS;
}

/** Where a key lives, as a hash tag: '' on one Redis, where every key is everywhere. */
export type Place = string;

/** How many parts the listeners' effects are split into on a cluster (see Keyspace). */
export const EFFECT_PARTS = 16;
/** The place of listeners whose effects need one sequence for all orders (the lottery). */
export const ONE_SLOT = 'one-slot';

/** A tag per part, in evenly spaced slot ranges, so that the parts spread over the primaries. */
const PART_TAGS: Place[] = Array.from({ length: EFFECT_PARTS }, (_, part) => {
  const [from, to] = [part, part + 1].map((p) =>
    Math.floor((p * CLUSTER_SLOTS) / EFFECT_PARTS),
  );
  for (let k = 0; ; k++) {
    const tag = `part${part}-${k}`;
    const slot = crc16(tag) % CLUSTER_SLOTS;
    if (slot >= from && slot < to) return tag;
  }
});

/**
 * Where each of podium's keys lives. On one Redis (and behind Sentinel) every key has the
 * name it always had: the seed's names, podium's own. On a Redis Cluster, what must change
 * together in one script shares a slot, by hash tag:
 * - a purchase (the event's capacity, the order hash, its Idempotency-Key, its outbox
 *   entries and its announced counts) lives in the slot of `events:<name>`: order ids are
 *   made so that `purchase_order_details:<id>` lands there, so both keep the seed's names;
 * - the listeners' effects are split in EFFECT_PARTS parts by order id, each part a slot
 *   of its own (`{part3-7}:sales_summary`, with its applied markers and counters), so that
 *   the work of many orders spreads over the primaries; readers add the parts up. A
 *   listener whose effects need one sequence for all orders (the lottery's every 5th)
 *   keeps them in one slot, ONE_SLOT;
 * - a listener group's queue is tagged with the group (`{durable}`), one slot per queue.
 */
export class Keyspace {
  static readonly singleRedis = new Keyspace(false);
  static readonly cluster = new Keyspace(true);

  private constructor(readonly isCluster: boolean) {}

  /** The place of an event's purchases: the slot of its hash. */
  eventPlace(event: string): Place {
    return this.isCluster ? slotTag(keySlot(eventKey(event))) : '';
  }

  /** The place of what goes with an order hash (its enqueued marker). */
  orderPlace(orderId: string): Place {
    return this.isCluster ? slotTag(keySlot(orderKey(orderId))) : '';
  }

  /** The place of a listener's effects on an order: its order's part, or the one slot. */
  effectsPlace(orderId: string, oneSlot: boolean): Place {
    if (!this.isCluster) return '';
    return oneSlot ? ONE_SLOT : PART_TAGS[effectsPart(orderId)];
  }

  /** Every place effects live in: what a reader adds up. */
  effectsPlaces(): Place[] {
    return this.isCluster ? [...PART_TAGS, ONE_SLOT] : [''];
  }

  /** The place of podium's keys that belong to no order or event (counts made outside a script). */
  get sharedPlace(): Place {
    return this.isCluster ? ONE_SLOT : '';
  }

  /** A key in a place: `{place}:key` on a cluster (the tag first: the key itself may hold braces). */
  key(place: Place, key: string): string {
    return place ? `{${place}}:${key}` : key;
  }

  /** A listener group's BullMQ queue name. */
  queueName(group: string): string {
    return this.isCluster ? `{${group}}` : group;
  }

  /** A new order id for an event; on a cluster its hash lands in the event's slot. */
  newOrderId(event: string): string {
    if (!this.isCluster) return newOrderId();
    return steeredId(orderKey(''), newOrderId(8), keySlot(eventKey(event)));
  }

  /** Whether an order id may be recorded for an event here (on a cluster: same slot). */
  fits(orderId: string, event: string): boolean {
    return (
      !this.isCluster || keySlot(orderKey(orderId)) === keySlot(eventKey(event))
    );
  }
}
