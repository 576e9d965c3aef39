import { Inject, Injectable } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { withLogContext } from '@podium/observability';
import { appliedKey, listenerStatsKey } from '@podium/orders';
import { LuaScript, REDIS } from '@podium/redis';
import { isScriptEffects, type Effects, type RedisArg } from './effects.js';
import { DELIVERY_OPTIONS, type DeliveryOptions } from './delivery.options.js';

/** One listener's effects on one order; null when the order is not for it (it skips it). */
export interface ListenerEffects {
  listener: string;
  effects: Effects | null;
}

/**
 * Per listener, in the order given: applied now, skipped now (not for it), already done
 * before (nothing written), or its writes failed.
 */
export type ApplyOutcome = 'applied' | 'skipped' | 'duplicate' | Error;

/*
 * Every listener's effects on one order run in ONE Lua script, each behind its own marker
 * (field <listener> of hash podium:applied:<order>): check, writes and marker are one
 * atomic step per listener, so at-least-once delivery gives exactly-once effects, and a
 * retry re-runs only the listeners whose marker is missing. A listener whose writes Redis
 * rejects (pcall) is reported failed and left unmarked without holding back the others.
 * A listener that skips the order (body 0) is marked '0' and counted as skipped, so that
 * announced = applied + skipped + failed + rejected (+ lost) holds per listener.
 *
 * KEYS = [marker hash, then per listener: its stats hash, its effect keys]
 * ARGV = [marker ttl, then per listener: name, body index (0: skip), #keys, #args, its args]
 */
const guardedLoop = (bodies: string[]): string => `
local bodies = {
${bodies.map((body) => `function(KEYS, ARGV)\n${body}\nend`).join(',\n')}
}
local out = {}
local k, a, i = 2, 2, 0
while a <= #ARGV do
  i = i + 1
  local listener, body, nk, na = ARGV[a], tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  if redis.call('HEXISTS', KEYS[1], listener) == 1 then
    redis.call('HINCRBY', KEYS[k], 'duplicates', 1)
    out[i] = {0}
  elseif body == 0 then
    redis.call('HSET', KEYS[1], listener, '0')
    redis.call('HINCRBY', KEYS[k], 'skipped', 1)
    out[i] = {2}
  else
    local ok, reply = pcall(bodies[body], {unpack(KEYS, k + 1, k + nk)}, {unpack(ARGV, a + 4, a + 3 + na)})
    if ok then
      redis.call('HSET', KEYS[1], listener, '1')
      redis.call('HINCRBY', KEYS[k], 'applied', 1)
      out[i] = {1, reply}
    else
      out[i] = {-1, type(reply) == 'table' and reply.err or tostring(reply)}
    end
  end
  k = k + 1 + nk
  a = a + 4 + na
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return out
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
  /** One script per distinct list of Lua bodies (plain writes, then the script effects in use). */
  private readonly scripts = new Map<string, LuaScript>();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(DELIVERY_OPTIONS) private readonly options: DeliveryOptions,
  ) {}

  /**
   * Applies the listeners' effects on one order in one script and, for each listener that
   * applied it now, runs its afterApply. Rejects only when the script itself failed (Redis
   * unreachable or refusing writes): then nothing of it was applied.
   */
  async apply(
    orderId: string,
    entries: readonly ListenerEffects[],
  ): Promise<ApplyOutcome[]> {
    const bodies = [WRITES_BODY];
    const keys: string[] = [appliedKey(orderId)];
    const args: RedisArg[] = [this.options.appliedMarkerTtlSeconds];
    for (const { listener, effects } of entries) {
      let body = 1;
      let effectKeys: readonly string[];
      let effectArgs: readonly RedisArg[];
      if (!effects) {
        body = 0;
        effectKeys = effectArgs = [];
      } else if (isScriptEffects(effects)) {
        body =
          bodies.indexOf(effects.script) + 1 || bodies.push(effects.script);
        ({ keys: effectKeys, args: effectArgs } = effects);
      } else {
        effectKeys = effects.writes.map(([, key]) => key);
        effectArgs = effects.writes.flatMap(([command, , ...rest]) => [
          rest.length + 1,
          command,
          ...rest,
        ]);
      }
      keys.push(listenerStatsKey(listener), ...effectKeys);
      args.push(
        listener,
        body,
        effectKeys.length,
        effectArgs.length,
        ...effectArgs,
      );
    }
    const replies = await this.script(bodies).run<[number, unknown?][]>(
      this.redis,
      keys,
      args,
    );
    return entries.map(({ listener, effects }, i) => {
      const [status, reply] = replies[i];
      if (status === 0) return 'duplicate';
      if (status === 2 || !effects) return 'skipped';
      if (status !== 1) return new Error(String(reply));
      // Lines an afterApply logs carry the listener (JSON logs), like the unit's order id.
      withLogContext({ listener }, () => {
        if (isScriptEffects(effects)) effects.afterApply?.(reply);
        else effects.afterApply?.(reply as unknown[]);
      });
      return 'applied';
    });
  }

  private script(bodies: string[]): LuaScript {
    const id = bodies.join('\0');
    let script = this.scripts.get(id);
    if (!script) {
      script = new LuaScript(guardedLoop(bodies));
      this.scripts.set(id, script);
    }
    return script;
  }
}
