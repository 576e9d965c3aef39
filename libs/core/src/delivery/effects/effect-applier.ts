import { Inject, Injectable } from '@nestjs/common';
import { withLogContext } from '../../observability/index.js';
import {
  appliedKey,
  Keyspace,
  listenerStatsKey,
  type Place,
} from '../../keyspace/index.js';
import { LuaScript, REDIS, type RedisClient } from '@podium/redis';
import { DELIVERY_OPTIONS, type DeliveryOptions } from '../delivery.options.js';
import { isScriptEffects, type Effects, type RedisArg } from './effects.js';
import { effectsScript, WRITES_BODY } from './effects-script.js';

/** One listener's effects on one message; null when the message is not for it (it skips it). */
export interface EffectEntry {
  id: string;
  /** The key of the message's record (see effects.lua: applied only where it exists). */
  recordKey: string;
  listener: string;
  effects: Effects | null;
  /** On a cluster: its keys stay in one slot for every message (see OnMessage's oneSlot). */
  oneSlot?: boolean;
  /** A duplicate is expected here (a durable group's announcement and job): not counted as one. */
  duplicateExpected?: boolean;
}

/**
 * Per entry, in the order given: applied now, skipped now (not for it), already applied
 * before (a duplicate: nothing written), or failed (nothing written: its writes were taken
 * back, or the message is not on the server the script ran on).
 */
export type ApplyOutcome = 'applied' | 'skipped' | 'duplicate' | Error;

type Reply = [status: number, reply?: unknown];

/**
 * Applies listeners' effects on a batch of messages in ONE Lua script (effects.lua):
 * each (message, listener) entry is checked against its applied marker (field <listener> of
 * podium:applied:<message id>), applied all or nothing, and marked, so at-least-once delivery
 * gives exactly-once effects and a retry runs only what is not marked yet. Entries run in
 * the order given. The script is sent on the shared auto-pipelining connection, so the
 * scripts of concurrent batches reach Redis in the order apply() was called.
 */
@Injectable()
export class EffectApplier {
  /** Lua bodies by index: plain writes first, then each script effect as it first appears. */
  private readonly bodies: string[] = [WRITES_BODY];
  private script = new LuaScript(effectsScript(this.bodies));

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly keyspace: Keyspace,
    @Inject(DELIVERY_OPTIONS) private readonly options: DeliveryOptions,
  ) {}

  /**
   * Applies the entries and, for each one applied now, runs its afterApply. On a cluster
   * the entries go to one script per place their keys live in (Keyspace), all sent
   * together. Rejects only when a script did not run (Redis unreachable or refusing
   * writes): nothing of that script was applied then.
   */
  async apply(entries: readonly EffectEntry[]): Promise<ApplyOutcome[]> {
    if (entries.length === 0) return [];
    const byPlace = new Map<Place, number[]>();
    entries.forEach(({ id, oneSlot }, i) => {
      const place = this.keyspace.effectsPlace(id, oneSlot ?? false);
      byPlace.set(place, [...(byPlace.get(place) ?? []), i]);
    });
    const outcomes: ApplyOutcome[] = new Array<ApplyOutcome>(entries.length);
    await Promise.all(
      [...byPlace].map(async ([place, indexes]) => {
        const replies = await this.applyAt(
          place,
          indexes.map((i) => entries[i]),
        );
        indexes.forEach(
          (entry, i) => (outcomes[entry] = outcome(entries[entry], replies[i])),
        );
      }),
    );
    return outcomes;
  }

  /** One script for the entries of one place, every key in that place. */
  private applyAt(
    place: Place,
    entries: readonly EffectEntry[],
  ): Promise<Reply[]> {
    const keys = new KeyIndex((key) => this.keyspace.key(place, key));
    // On one Redis the message's record is in the script's reach: an entry applies only
    // where it is (see effects.lua). On a cluster it lives in another slot.
    const recordAt = (recordKey: string) =>
      this.keyspace.isCluster ? 0 : keys.of(recordKey);
    const encoded = entries.map(
      ({ id, recordKey, listener, effects, duplicateExpected }) => {
        const [body, effectKeys, effectArgs] = this.encode(effects);
        return [
          keys.of(appliedKey(id)),
          keys.of(listenerStatsKey(listener)),
          listener,
          body,
          effectKeys.map((key) => keys.of(key)),
          effectArgs.map(String),
          body === 0 ? 0 : recordAt(recordKey),
          duplicateExpected ? 1 : 0,
        ];
      },
    );
    return this.script.run<Reply[]>(this.redis, keys.list, [
      this.options.appliedMarkerTtlSeconds,
      JSON.stringify(encoded),
    ]);
  }

  /** The body index (0: skip), keys and args of one entry. */
  private encode(
    effects: Effects | null,
  ): [number, readonly string[], readonly RedisArg[]] {
    if (!effects) return [0, [], []];
    if (isScriptEffects(effects))
      return [this.bodyIndex(effects.script), effects.keys, effects.args];
    const args: RedisArg[] = [];
    for (const [command, , ...rest] of effects.writes)
      args.push(rest.length + 1, command, ...rest);
    return [1, effects.writes.map(([, key]) => key), args];
  }

  /** The 1-based index of a script effect's body, adding it (and so a new script) the first time. */
  private bodyIndex(body: string): number {
    let index = this.bodies.indexOf(body);
    if (index < 0) {
      index = this.bodies.push(body) - 1;
      this.script = new LuaScript(effectsScript(this.bodies));
    }
    return index + 1;
  }
}

function outcome(
  { id, listener, effects }: EffectEntry,
  [status, reply]: Reply,
): ApplyOutcome {
  if (status === 0) return 'duplicate';
  if (status === 2 || !effects) return 'skipped';
  if (status !== 1) return new Error(String(reply));
  if (!effects.afterApply) return 'applied';
  // Lines an afterApply logs carry the message id and the listener (JSON logs).
  withLogContext({ orderId: id, listener }, () => {
    if (isScriptEffects(effects)) effects.afterApply?.(reply);
    else effects.afterApply?.(reply as unknown[]);
  });
  return 'applied';
}

/** The KEYS of a script, each key once (as placed), named by its 1-based index. */
class KeyIndex {
  readonly list: string[] = [];
  private readonly index = new Map<string, number>();

  constructor(private readonly placed: (key: string) => string) {}

  of(key: string): number {
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.list.push(this.placed(key));
      this.index.set(key, i);
    }
    return i;
  }
}
