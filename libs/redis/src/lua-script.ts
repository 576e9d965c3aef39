import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

type Arg = string | number;

/**
 * A Lua script run by EVALSHA, loaded with EVAL the first time Redis answers NOSCRIPT
 * (a new or restarted server). Unlike ioredis' defineCommand it can be created at any time:
 * a command defined after an auto-pipeline was opened is missing from that pipeline.
 */
export class LuaScript {
  readonly sha: string;

  constructor(readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run<T = unknown>(redis: Redis, keys: readonly string[], args: readonly Arg[]): Promise<T> {
    try {
      return (await redis.evalsha(this.sha, keys.length, ...keys, ...args)) as T;
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return (await redis.eval(this.lua, keys.length, ...keys, ...args)) as T;
    }
  }
}
