import type { Redis } from 'ioredis';
import { OUTBOX } from '@podium/orders';
import { LUA_NOW_MS } from '@podium/queues';
import { LuaScript } from '@podium/redis';

// Reply: {entries, ms since the oldest entry was recorded (0 when empty)}.
const STATE = new LuaScript(`
${LUA_NOW_MS}
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local age = 0
if oldest[2] then age = math.max(0, now - tonumber(oldest[2])) end
return {redis.call('ZCARD', KEYS[1]), age}
`);

export interface OutboxState {
  /** Jobs that must exist and may not yet: (group, order) pairs recorded or claimed, not queued yet. */
  entries: number;
  /** How long ago the oldest of them was entered, ms; 0 when there is none. */
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
