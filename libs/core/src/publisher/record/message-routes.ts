import type { RedisClient } from '@podium/redis';
import { globMatches } from '../../messages/index.js';
import {
  readDurableSubscriptions,
  readListenerDirectory,
  type DurableSubscription,
  type ListenerEntry,
} from '../../queues/index.js';

/** How long what the listeners processes registered is trusted before it is read again. */
const ROUTES_CACHE_MS = 1000;

/** Where a message announced on a set of channels goes. */
export interface Route {
  /** The durable groups it is queued for as it is recorded. */
  durable: string[];
  /** The known listeners that hear it: their `announced` counters count it. */
  listeners: string[];
}

/**
 * Which listeners hear a message on its channels, and which durable groups queue it, from the
 * durable subscriptions and the listener directory that the listeners processes keep in
 * Redis. They are read at most once a second rather than on every message. That is safe: a
 * durable subscription is registered by a listeners process as it starts, and while it
 * runs it claims every message it hears that nobody queued for it, so the second in which
 * the publisher does not know the subscription yet loses nothing (and a new listener's
 * announced count starts up to a second late).
 */
export class MessageRoutes {
  private cache?: {
    at: number;
    source: Promise<[DurableSubscription[], ListenerEntry[]]>;
    routes: Map<string, Route>;
  };

  constructor(private readonly redis: RedisClient) {}

  async of(channels: readonly string[]): Promise<Route> {
    const hears = (pattern: string) =>
      channels.some((channel) => globMatches(pattern, channel));
    const cacheKey = channels.join('\n');
    const now = Date.now();
    if (!this.cache || now - this.cache.at > ROUTES_CACHE_MS) {
      const source = Promise.all([
        readDurableSubscriptions(this.redis),
        readListenerDirectory(this.redis),
      ]);
      source.catch(() => (this.cache = undefined));
      this.cache = { at: now, source, routes: new Map() };
    }
    const { source, routes } = this.cache;
    let route = routes.get(cacheKey);
    if (!route) {
      const [durable, directory] = await source;
      route = {
        durable: durable
          .filter((s) => s.patterns.some(hears))
          .map((s) => s.group),
        listeners: directory.filter((l) => hears(l.pattern)).map((l) => l.name),
      };
      routes.set(cacheKey, route);
    }
    return route;
  }
}
