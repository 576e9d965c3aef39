import { LuaScript } from '@podium/redis';
import type { AnyMessageType } from '../../messages/index.js';

const RECORD = new URL('./record.lua', import.meta.url);
const ADMIT_ALL = new URL('./includes/admit-all.lua', import.meta.url);

const scripts = new WeakMap<object, LuaScript>();

/**
 * The script that records and announces a message of a type in one atomic step: the
 * type's admission (or admit-all.lua) ahead of record.lua, which says what it checks and
 * writes, its KEYS, ARGV and reply. Read once per type.
 */
export function recordScriptOf(type: AnyMessageType): LuaScript {
  let script = scripts.get(type);
  if (!script) {
    script = LuaScript.fromFiles([
      type.definition.admission?.lua ?? ADMIT_ALL,
      RECORD,
    ]);
    scripts.set(type, script);
  }
  return script;
}
