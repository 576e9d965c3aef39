import { Keyspace, OUTBOX } from '../../keyspace/index.js';
import { readRecordPlaces } from '../../queues/index.js';
import { LuaScript, type RedisClient } from '@podium/redis';

// The outbox's entries and the age of the oldest, on Redis's clock.
const STATE = LuaScript.fromFile(
  new URL('./outbox-state.lua', import.meta.url),
);

export interface OutboxState {
  /** Jobs that must exist and may not yet: (group, message) pairs recorded or claimed, not queued yet. */
  entries: number;
  /** How long ago the oldest of them was entered, ms; 0 when there is none. */
  oldestAgeMs: number;
}

/** The outbox's keys: one on one Redis; on a cluster one per place of the record path. */
export async function outboxKeys(
  redis: RedisClient,
  keys: Keyspace,
): Promise<string[]> {
  return (await readRecordPlaces(redis, keys)).map((place) =>
    keys.key(place, OUTBOX),
  );
}

/** The outbox as a whole (on a cluster, every place's added up). */
export async function readOutbox(
  redis: RedisClient,
  keys: Keyspace = Keyspace.singleRedis,
): Promise<OutboxState> {
  const states = await Promise.all(
    (await outboxKeys(redis, keys)).map((key) =>
      STATE.run<[number, number]>(redis, [key], []),
    ),
  );
  return {
    entries: states.reduce((sum, [entries]) => sum + entries, 0),
    oldestAgeMs: Math.max(0, ...states.map(([, age]) => age)),
  };
}
