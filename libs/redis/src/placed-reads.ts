import type { RedisClient } from './redis-connection.js';

/**
 * Where the listeners' effects live, as PlacedReads needs it (the Olympics domain's
 * Keyspace is one): every place, and a key's name in a place.
 */
export interface EffectPlaces {
  effectsPlaces(): string[];
  key(place: string, key: string): string;
}

/**
 * Reads of what the listeners wrote, wherever the keyspace keeps it: on one Redis a key is
 * one key; on a cluster the listeners' effects are split in parts (Keyspace, in @podium/orders), and each read
 * puts the parts back together the way its data adds up: counters are summed, sets of
 * order ids joined (each order is in one part), lists merged. The reads of all parts go
 * out together (auto-pipelining groups them per server).
 */
export class PlacedReads {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: EffectPlaces,
  ) {}

  /** Every physical key of a logical one. */
  placesOf(key: string): string[] {
    return this.keys.effectsPlaces().map((place) => this.keys.key(place, key));
  }

  /** A hash of counters: each field summed over the parts. */
  async hashSums(key: string): Promise<Record<string, number>> {
    const parts = await Promise.all(
      this.placesOf(key).map((k) => this.redis.hgetall(k)),
    );
    const sums: Record<string, number> = {};
    for (const part of parts)
      for (const [field, value] of Object.entries(part))
        sums[field] = (sums[field] ?? 0) + Number(value);
    return sums;
  }

  /** How many members a set has (its parts hold different orders). */
  async setSize(key: string): Promise<number> {
    const sizes = await Promise.all(
      this.placesOf(key).map((k) => this.redis.scard(k)),
    );
    return sizes.reduce((a, b) => a + b, 0);
  }

  /** A set's members, from every part. */
  async setMembers(key: string): Promise<string[]> {
    const parts = await Promise.all(
      this.placesOf(key).map((k) => this.redis.smembers(k)),
    );
    return [...new Set(parts.flat())];
  }

  /** BITFIELD GETs of counters, summed over the parts, one number per GET. */
  async bitfieldSums(
    key: string,
    getArgs: readonly string[],
  ): Promise<number[]> {
    const parts = (await Promise.all(
      this.placesOf(key).map((k) => this.redis.call('BITFIELD', k, ...getArgs)),
    )) as number[][];
    return parts.reduce(
      (sums, part) => sums.map((n, i) => n + Number(part[i] ?? 0)),
      parts[0].map(() => 0),
    );
  }

  /**
   * A list's range, from every part: on one Redis the list as it is; on a cluster the
   * parts' elements put in `order` (each part keeps its own, so with a range from the head
   * only the head of each part is read) and cut to the range. Without an order the parts
   * follow each other: for a list only one part holds (a one-slot listener's).
   */
  async listRange(
    key: string,
    start: number,
    stop: number,
    order?: (a: string, b: string) => number,
  ): Promise<string[]> {
    const keys = this.placesOf(key);
    if (keys.length === 1) return this.redis.lrange(keys[0], start, stop);
    const head = order && start >= 0 && stop >= 0 ? stop : -1;
    const parts = await Promise.all(
      keys.map((k) => this.redis.lrange(k, 0, head)),
    );
    const all = order ? parts.flat().sort(order) : parts.flat();
    return all.slice(
      start < 0 ? all.length + start : start,
      stop < 0 ? all.length + stop + 1 : stop + 1,
    );
  }
}
