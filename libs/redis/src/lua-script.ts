import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-connection.js';

type Arg = string | number;

/**
 * A Lua script run by EVALSHA. It is loaded once (SCRIPT LOAD) before its first run, and
 * again with EVAL if Redis answers NOSCRIPT (a restarted server). Once loaded, run() sends
 * its command synchronously, so calls reach Redis in the order they were made.
 * (ioredis' defineCommand cannot be used here: a command defined after an auto-pipeline was
 * opened is missing from that pipeline.)
 */
export class LuaScript {
  readonly sha: string;
  private readonly loading = new WeakMap<RedisClient, Promise<unknown>>();
  private readonly loaded = new WeakSet<RedisClient>();

  constructor(readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run<T = unknown>(
    redis: RedisClient,
    keys: readonly string[],
    args: readonly Arg[],
  ): Promise<T> {
    if (!this.loaded.has(redis)) await this.load(redis);
    try {
      return (await redis.evalsha(
        this.sha,
        keys.length,
        ...keys,
        ...args,
      )) as T;
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT'))
        throw err;
      return (await redis.eval(this.lua, keys.length, ...keys, ...args)) as T;
    }
  }

  private async load(redis: RedisClient): Promise<void> {
    let loading = this.loading.get(redis);
    if (!loading) {
      loading = redis.script('LOAD', this.lua);
      this.loading.set(redis, loading);
    }
    try {
      await loading;
      this.loaded.add(redis);
    } catch (err) {
      this.loading.delete(redis);
      throw err;
    }
  }
}
