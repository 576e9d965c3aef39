import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { appliedKey, listenerStatsKey } from '@podium/orders';
import { LuaScript, REDIS } from '@podium/redis';
import { isScriptEffects, type Effects, type RedisArg } from './effects.js';
import { DELIVERY_OPTIONS, type DeliveryOptions } from './delivery.options.js';

export interface ApplyResult {
  /** False when this listener had already applied the order: nothing was written. */
  applied: boolean;
  reply?: unknown;
}

/*
 * Every listener's effects run inside one Lua script behind a per-order, per-listener
 * marker (field <listener> of hash podium:applied:<order>). The check, the writes and the
 * marker are one atomic step in Redis, so at-least-once delivery gives exactly-once effects.
 * The marker is set after the writes: a write that Redis rejects aborts the script before
 * the order is marked, and the failure is reported rather than hidden as a duplicate.
 *
 * KEYS = [marker hash, stats hash, ...the effects' keys]
 * ARGV = [listener, marker ttl, ...the effects' args]
 */
const guarded = (body: string): string => `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[2], 'duplicates', 1)
  return {0}
end
local function effects(KEYS, ARGV)
${body}
end
local reply = effects({unpack(KEYS, 3)}, {unpack(ARGV, 3)})
redis.call('HSET', KEYS[1], ARGV[1], '1')
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], 'applied', 1)
return {1, reply}
`;

// Plain writes: KEYS[i] is write i's key; ARGV holds, per write, its length, command and args.
const WRITES_BODY = `
local replies = {}
local a = 1
for i = 1, #KEYS do
  local n = tonumber(ARGV[a])
  replies[i] = redis.call(ARGV[a + 1], KEYS[i], unpack(ARGV, a + 2, a + n))
  a = a + n + 1
end
return replies
`;

@Injectable()
export class EffectApplier {
  /** The guarded script of each effect body seen so far. */
  private readonly scripts = new Map<string, LuaScript>();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(DELIVERY_OPTIONS) private readonly options: DeliveryOptions,
  ) {}

  async apply(listener: string, orderId: string, effects: Effects): Promise<ApplyResult> {
    let body: string;
    let keys: readonly string[];
    let args: RedisArg[];
    if (isScriptEffects(effects)) {
      ({ script: body, keys } = effects);
      args = [...effects.args];
    } else {
      body = WRITES_BODY;
      keys = effects.writes.map(([, key]) => key);
      args = effects.writes.flatMap(([command, , ...rest]) => [rest.length + 1, command, ...rest]);
    }
    const [applied, reply] = await this.script(body).run<[number, unknown?]>(
      this.redis,
      [appliedKey(orderId), listenerStatsKey(listener), ...keys],
      [listener, this.options.appliedMarkerTtlSeconds, ...args],
    );
    if (applied !== 1) return { applied: false };
    if (isScriptEffects(effects)) effects.afterApply?.(reply);
    else effects.afterApply?.(reply as unknown[]);
    return { applied: true, reply };
  }

  private script(body: string): LuaScript {
    let script = this.scripts.get(body);
    if (!script) {
      script = new LuaScript(guarded(body));
      this.scripts.set(body, script);
    }
    return script;
  }
}
