import {
  CLUSTER_SLOTS,
  crc16,
  keySlot,
  slotTag,
  STEERING,
  steeredId,
} from '@podium/redis';
import {
  newMessageId,
  type IdField,
  type MessageType,
} from '../messages/index.js';

/**
 * A message's effects part, from the characters of its id chosen at random: not its last
 * STEERING ones, which steer its record into its placement's slot. CRC16 is linear, so for
 * ids of one length the slot of the record key fixes crc16(<id>): parts taken from the
 * whole id put every message of one placement in one part (seen in the bench: 4 parts of
 * 16 in use, one per Olympics event, the hottest 18.5% of all commands).
 */
function effectsPart(id: string): number {
  const random = id.length > STEERING ? id.slice(0, -STEERING) : id;
  return crc16(random) % EFFECT_PARTS;
}

/** Where a key lives, as a hash tag: '' on one Redis, where every key is everywhere. */
export type Place = string;

/** How many parts the listeners' effects are split into on a cluster (see Keyspace). */
export const EFFECT_PARTS = 16;
/** The place of listeners whose effects need one sequence for all messages (every 5th...). */
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
 * Where each of podium's keys lives. On one Redis (and behind Sentinel) every key has its
 * plain name. On a Redis Cluster, what must change together in one script shares a slot,
 * by hash tag:
 * - a message's record path (its record, its Idempotency-Key, its outbox entries, its
 *   markers and announced counts) lives in its record's slot: the record key keeps its
 *   name, and a type with `placedBy` has its ids made so that the record lands in that
 *   key's slot (an Olympics order in its event's);
 * - the listeners' effects are split in EFFECT_PARTS parts by message id, each part a slot
 *   of its own (`{part3-7}:sales_summary`, with its applied markers and counters), so that
 *   the work of many messages spreads over the primaries; readers add the parts up. A
 *   listener whose effects need one sequence for all messages keeps them in one slot,
 *   ONE_SLOT;
 * - a listener group's queue is tagged with the group (`{durable}`), one slot per queue.
 */
export class Keyspace {
  static readonly singleRedis = new Keyspace(false);
  static readonly cluster = new Keyspace(true);

  private constructor(readonly isCluster: boolean) {}

  /** The place of a key's slot ('' on one Redis). */
  placeOf(key: string): Place {
    return this.isCluster ? slotTag(keySlot(key)) : '';
  }

  /** The place of a message's record path: its record's slot. */
  recordPlace(type: { recordKey(id: string): string }, id: string): Place {
    return this.placeOf(type.recordKey(id));
  }

  /** The place of a listener's effects on a message: its message's part, or the one slot. */
  effectsPlace(id: string, oneSlot: boolean): Place {
    if (!this.isCluster) return '';
    return oneSlot ? ONE_SLOT : PART_TAGS[effectsPart(id)];
  }

  /** Every place effects live in: what a reader adds up. */
  effectsPlaces(): Place[] {
    return this.isCluster ? [...PART_TAGS, ONE_SLOT] : [''];
  }

  /** The place of podium's keys that belong to no message (counts made outside a script). */
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

  /**
   * A new id for a message of this type: random; on a cluster, for a type placed by a key,
   * made so that its record lands in that key's slot.
   */
  newId<T, K extends IdField<T>>(
    type: MessageType<T, K>,
    message: Omit<T, K>,
  ): string {
    const placedBy = type.definition.placedBy?.(message as T);
    if (!this.isCluster || placedBy === undefined) return newMessageId();
    return steeredId(type.recordKey(''), newMessageId(8), keySlot(placedBy));
  }

  /** Whether a message may be recorded here: on a cluster, its record is in its placement's slot. */
  fits<T, K extends IdField<T>>(type: MessageType<T, K>, message: T): boolean {
    const placedBy = type.definition.placedBy?.(message);
    return (
      !this.isCluster ||
      placedBy === undefined ||
      keySlot(type.recordKey(type.idOf(message))) === keySlot(placedBy)
    );
  }
}
