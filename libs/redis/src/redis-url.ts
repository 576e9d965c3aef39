import type { RedisOptions } from 'ioredis';

/**
 * Turns REDIS_URL (redis://[user:password@]host:port[/db] or rediss:// for TLS) into
 * ioredis options. Nest's Redis transport takes an options object, not a URL, so every
 * connection podium opens goes through here and they all agree.
 */
export function redisOptionsFromUrl(url: string): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`REDIS_URL is not a URL: "${url}"`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`REDIS_URL must start with redis:// or rediss://, got "${parsed.protocol}//"`);
  }
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new Error(`REDIS_URL database must be a number, got "${parsed.pathname}"`);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    ...(parsed.username && { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password && { password: decodeURIComponent(parsed.password) }),
    db,
    ...(parsed.protocol === 'rediss:' && { tls: {} }),
  };
}
