import { resolveLua } from '@podium/redis';

/*
 * The Lua script that applies listeners' effects, all or nothing per (message, listener):
 * effects.lua (its KEYS, ARGV and reply), with the undo journal it includes (journal.lua).
 * One thing is known only at run time: the listeners' bodies, which become functions in
 * the script's `bodies` table.
 */

const EFFECTS = resolveLua(new URL('./effects.lua', import.meta.url)).text;

/** The line of effects.lua the bodies replace. */
const BODIES = /^--@bodies$/m;

/** The body of plain writes (WriteEffects): writes.lua. */
export const WRITES_BODY = resolveLua(
  new URL('./writes.lua', import.meta.url),
).text;

/** The whole script for a list of bodies (WRITES_BODY first, then the script effects in use). */
export function effectsScript(bodies: readonly string[]): string {
  const functions = bodies
    .map((body) => `function(KEYS, ARGV, redis)\n${body}\nend`)
    .join(',\n');
  // A function, so that a `$` in a body is not read as a replacement pattern.
  return EFFECTS.replace(BODIES, () => functions);
}
