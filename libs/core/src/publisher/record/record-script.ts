import { LuaScript } from '@podium/redis';

/**
 * Records and announces a purchase in one atomic step: record.lua says what it checks
 * and writes, its KEYS, ARGV and reply.
 */
export const RECORD = LuaScript.fromFile(
  new URL('./record.lua', import.meta.url),
);
