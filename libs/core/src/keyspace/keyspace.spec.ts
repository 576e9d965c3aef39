import {
  CLUSTER_SLOTS,
  hashedPart,
  keySlot,
  slotTag,
  steeredId,
} from '@podium/redis';
import { defineMessageType } from '../messages/index.js';
import { EFFECT_PARTS, Keyspace } from './keyspace.js';

/** A message type placed by a key of its own, as an Olympics order is by its event's. */
interface Entry {
  id: string;
  venue: string;
}
const ENTRY = defineMessageType<Entry>()({
  name: 'entry',
  idField: 'id',
  recordKeyPrefix: 'entry:',
  toHash: ({ id, venue }) => ({ id, venue }),
  fromHash: (id, hash) => ({ id, venue: hash.venue }),
  channels: ({ venue }) => [`entries:${venue}`],
  placedBy: ({ venue }) => `venues:${venue}`,
});

describe('cluster slots', () => {
  it("are Redis's: CRC16 of the key, or of its hash tag, modulo 16384", () => {
    // Measured with CLUSTER KEYSLOT on Redis 7.
    expect(keySlot('sales_summary')).toBe(12630);
    expect(keySlot('events:Archery')).toBe(3228);
    expect(keySlot('podium:outbox')).toBe(56);
    expect(keySlot('123456789')).toBe(12739);
    expect(keySlot('{sales_summary}:x')).toBe(12630);
    expect(hashedPart('a{}b')).toBe('a{}b'); // an empty tag hashes the whole key
    expect(hashedPart('a{b}c{d}')).toBe('b');
  });

  it('give a tag for every slot', () => {
    for (const slot of [0, 1, 56, 12630, CLUSTER_SLOTS - 1])
      expect(keySlot(`{${slotTag(slot)}}:x`)).toBe(slot);
  });

  it('can steer an id into any slot with its last four characters', () => {
    for (const slot of [0, 3228, 9999, CLUSTER_SLOTS - 1]) {
      const id = steeredId('entry:', 'ABCDEFGH', slot);
      expect(id).toMatch(/^ABCDEFGH[A-Z0-9]{4}$/);
      expect(keySlot(ENTRY.recordKey(id))).toBe(slot);
    }
  });
});

describe('Keyspace', () => {
  it('keeps every name on one Redis', () => {
    const keys = Keyspace.singleRedis;
    expect(keys.key(keys.effectsPlace('A1', false), 'sales_summary')).toBe(
      'sales_summary',
    );
    expect(keys.queueName('durable')).toBe('durable');
    expect(keys.effectsPlaces()).toEqual(['']);
  });

  describe('on a cluster', () => {
    const keys = Keyspace.cluster;

    it("puts a message's record path in the slot of what places it: ids are made to land there", () => {
      for (const venue of [
        'Archery',
        'Opening Ceremony',
        '100m [Final]* {x}',
      ]) {
        const id = keys.newId(ENTRY, { venue });
        expect(id).toMatch(/^[A-Z][A-Z0-9]{11}$/);
        expect(keys.fits(ENTRY, { id, venue })).toBe(true);
        const place = keys.placeOf(`venues:${venue}`);
        expect(keySlot(keys.key(place, 'podium:idempotency:k'))).toBe(
          keySlot(`venues:${venue}`),
        );
        expect(keys.recordPlace(ENTRY, id)).toBe(place);
      }
      expect(keys.fits(ENTRY, { id: 'ABCDEFGHIJKL', venue: 'Archery' })).toBe(
        keySlot('entry:ABCDEFGHIJKL') === keySlot('venues:Archery'),
      );
    });

    it('splits effects in parts spread evenly over the slot space, and keeps one-slot listeners together', () => {
      const places = keys.effectsPlaces();
      expect(places).toHaveLength(EFFECT_PARTS + 1);
      const slots = places
        .slice(0, EFFECT_PARTS)
        .map((place) => keySlot(keys.key(place, 'x')));
      slots.forEach((slot, part) =>
        expect(Math.floor((slot * EFFECT_PARTS) / CLUSTER_SLOTS)).toBe(part),
      );
      expect(keys.effectsPlace('A1', true)).toBe(keys.effectsPlace('B2', true));
      // The messages of one placement (steered into one slot) spread over every part.
      const parts = new Set(
        Array.from({ length: 400 }, () =>
          keys.effectsPlace(keys.newId(ENTRY, { venue: 'Archery' }), false),
        ),
      );
      expect(parts.size).toBe(EFFECT_PARTS);
      // A key that holds braces itself stays in its part: the part's tag comes first.
      const place = keys.effectsPlace('A1', false);
      expect(keySlot(keys.key(place, 'sales:{weird}'))).toBe(
        keySlot(keys.key(place, 'x')),
      );
    });
  });
});
