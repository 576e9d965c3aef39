import type { RedisOptions } from 'ioredis';

/** What REDIS_URL says: where the server is, and how every data connection logs in. */
export interface RedisUrlParts {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  /** rediss:// */
  tls: boolean;
}

/**
 * Reads REDIS_URL (redis://[user:password@]host:port[/db] or rediss:// for TLS); a wrong one
 * throws a message naming REDIS_URL, without its password.
 */
export function parseRedisUrl(url: string): RedisUrlParts {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(
      `REDIS_URL is not a valid URL: "${hideUrlPassword(url)}" (the form is redis[s]://[user:password@]host:port[/db])`,
    );
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(
      `REDIS_URL must start with redis:// or rediss://, got "${parsed.protocol}//"`,
    );
  }
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0)
    throw new Error(
      `REDIS_URL database must be a number, got "${parsed.pathname}"`,
    );
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username && { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password && { password: decodeURIComponent(parsed.password) }),
    db,
    tls: parsed.protocol === 'rediss:',
  };
}

/**
 * REDIS_URL as ioredis options for one server, for code that opens plain connections of
 * its own (the bench's baselines). podium's own connections go through createRedis.
 */
export function redisOptionsFromUrl(url: string): RedisOptions {
  const { tls, ...rest } = parseRedisUrl(url);
  return { ...rest, ...(tls && { tls: {} }) };
}

/**
 * The URL with its password replaced by ***, for messages: `redis://app:***@host:6379`.
 * Works on text that is not a valid URL too (everything up to the last "@" is credentials).
 */
export function hideUrlPassword(url: string): string {
  const start = url.indexOf('://') + 3;
  const at = url.lastIndexOf('@');
  if (start < 3 || at < start) return url;
  const colon = url.indexOf(':', start);
  const user = colon !== -1 && colon < at ? url.slice(start, colon) : '';
  return `${url.slice(0, start)}${user}:***${url.slice(at)}`;
}

/**
 * Hides the credentials of every URL in a text (an error message, a log line):
 * `scheme://user:password@` becomes `scheme://user:***@` and `scheme://secret@` becomes
 * `scheme://***@`, up to the last "@" before a space, so that a password with an
 * unencoded "@" is hidden whole.
 */
export function redactSecrets(text: string): string {
  return text.replace(
    /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*:)?\S*@/gi,
    '$1$2***@',
  );
}
