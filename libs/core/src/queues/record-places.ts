import type { RedisClient } from '@podium/redis';
import { PLACES, type Keyspace, type Place } from '../keyspace/index.js';

/**
 * The places of the record path (on a cluster, the slots where podium keeps an outbox and
 * announced counts: see Keyspace), registered in PLACES so that relays and readers find
 * them all. Whoever writes there registers the place first, once per process; nothing to
 * do on one Redis, where the record path has one place.
 */
export class RecordPlaces {
  private readonly registered = new Set<Place>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keyspace,
  ) {}

  async register(places: Iterable<Place>): Promise<void> {
    if (!this.keys.isCluster) return;
    const fresh = [...new Set(places)].filter((p) => !this.registered.has(p));
    if (fresh.length === 0) return;
    await this.redis.sadd(PLACES, ...fresh);
    for (const place of fresh) this.registered.add(place);
  }
}

/** The places of the record path in use: on one Redis its only one (''), on a cluster those registered. */
export async function readRecordPlaces(
  redis: RedisClient,
  keys: Keyspace,
): Promise<Place[]> {
  return keys.isCluster ? redis.smembers(PLACES) : [''];
}
