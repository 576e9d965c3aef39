import type { Redis } from 'ioredis';
import { LuaScript } from '@podium/redis';

/**
 * Sorted set: member = id of an order recorded but not announced yet, score = epoch ms
 * (Redis's clock) when it was recorded. The record script adds the entry in the same atomic
 * step as the order, when durable subscriptions match it (only then is there a gap between
 * recording and announcing); the announcement removes it in the same MULTI. What stays
 * longer than the grace, a relay re-drives (see OutboxRelay).
 */
export const OUTBOX = 'podium:outbox';
/** String: the id of the relay working on the outbox, with an expiry (see OutboxRelay). */
export const OUTBOX_LEASE = 'podium:outbox:lease';

/** Redis's clock in ms, in Lua: every outbox age is measured on the one clock that wrote it. */
export const LUA_NOW_MS = `local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)`;

// Reply: {entries, ms since the oldest entry was recorded (0 when empty)}.
const STATE = new LuaScript(`
${LUA_NOW_MS}
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local age = 0
if oldest[2] then age = math.max(0, now - tonumber(oldest[2])) end
return {redis.call('ZCARD', KEYS[1]), age}
`);

export interface OutboxState {
  /** Orders recorded and not announced yet. */
  entries: number;
  /** How long ago the oldest of them was recorded, ms; 0 when there is none. */
  oldestAgeMs: number;
}

export async function readOutbox(redis: Redis): Promise<OutboxState> {
  const [entries, oldestAgeMs] = await STATE.run<[number, number]>(
    redis,
    [OUTBOX],
    [],
  );
  return { entries, oldestAgeMs };
}
