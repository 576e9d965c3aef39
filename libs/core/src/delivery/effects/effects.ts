export type RedisArg = string | number;

/** One Redis write: the command, the one key it writes, then its other arguments. */
export type RedisWrite = readonly [
  command: string,
  key: string,
  ...args: RedisArg[],
];

/**
 * What a listener does with one message, as data, so that podium can apply it atomically
 * and at most once per message and listener, whatever the duplicates and retries.
 */
export type Effects = WriteEffects | ScriptEffects;

/** The common case: plain Redis writes, run in order inside one script. */
export interface WriteEffects {
  writes: readonly RedisWrite[];
  /** Runs in this process once the writes were applied for the first time (logs, notices). */
  afterApply?: (replies: unknown[]) => void;
}

/**
 * For writes that depend on a value read or computed inside Redis (the lottery draws on
 * the counter it increments): a Lua body with KEYS and ARGV of its own.
 */
export interface ScriptEffects {
  script: string;
  keys: readonly string[];
  args: readonly RedisArg[];
  afterApply?: (reply: unknown) => void;
}

export function isScriptEffects(effects: Effects): effects is ScriptEffects {
  return 'script' in effects;
}
