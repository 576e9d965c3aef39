/**
 * Escapes the characters that Redis PSUBSCRIBE treats as glob syntax, so that a channel
 * name taken from free text (an event called `100m [Final]*`) matches only itself.
 */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/**
 * Does a Redis glob pattern match a channel? The same rules as Redis' stringmatchlen:
 * `*`, `?`, `[abc]`, `[^abc]`, `[a-z]` and `\` escapes. Used to match a message's channels
 * against subscriptions without a round trip to Redis (the publisher's durable groups, a
 * queue worker's members).
 */
export function globMatches(pattern: string, channel: string): boolean {
  let p = 0;
  let s = 0;
  let starP = -1;
  let starS = -1;
  while (s < channel.length) {
    if (p < pattern.length && pattern[p] === '*') {
      starP = p++;
      starS = s;
      continue;
    }
    const step = p < pattern.length ? matchOne(pattern, p, channel[s]) : -1;
    if (step > 0) {
      p += step;
      s++;
    } else if (starP >= 0) {
      p = starP + 1;
      s = ++starS;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Length of the pattern token at `p` if it matches `ch`, or -1. */
function matchOne(pattern: string, p: number, ch: string): number {
  const c = pattern[p];
  if (c === '?') return 1;
  if (c === '\\' && p + 1 < pattern.length)
    return pattern[p + 1] === ch ? 2 : -1;
  if (c !== '[') return c === ch ? 1 : -1;
  let i = p + 1;
  const negate = pattern[i] === '^';
  if (negate) i++;
  let matched = false;
  while (i < pattern.length && pattern[i] !== ']') {
    if (pattern[i] === '\\' && i + 1 < pattern.length) {
      if (pattern[i + 1] === ch) matched = true;
      i += 2;
    } else if (
      pattern[i + 1] === '-' &&
      i + 2 < pattern.length &&
      pattern[i + 2] !== ']'
    ) {
      let lo = pattern[i];
      let hi = pattern[i + 2];
      if (lo > hi) [lo, hi] = [hi, lo];
      if (ch >= lo && ch <= hi) matched = true;
      i += 3;
    } else {
      if (pattern[i] === ch) matched = true;
      i++;
    }
  }
  // An unterminated class runs to the end of the pattern, as in Redis.
  const end = i < pattern.length ? i + 1 : i;
  return matched !== negate ? end - p : -1;
}
