import { Inject, Injectable } from '@nestjs/common';
import DataLoader from 'dataloader';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import {
  MalformedOrderError,
  orderFromHash,
  orderKey,
  type Order,
} from '@podium/orders';
import { REDIS } from '@podium/redis';

export class UnknownOrderError extends Error {}

/**
 * Reads order hashes for every listener in this process. One announcement reaches several
 * listeners (and each order is announced on two channels), so reads are batched per tick
 * into one pipeline and recent orders are cached: orders do not change once recorded (a
 * retry reads afresh, since a poison order may have been fixed).
 */
@Injectable()
export class OrderLoader {
  private readonly loader: DataLoader<string, Order>;

  constructor(@Inject(REDIS) private readonly redis: Redis) {
    this.loader = new DataLoader((ids) => this.readMany(ids), {
      cacheMap: new LRUCache<string, Promise<Order>>({
        max: 20_000,
        ttl: 60_000,
      }),
    });
  }

  /** Rejects with UnknownOrderError or MalformedOrderError; those are not cached. `fresh` skips the cache. */
  async load(orderId: string, fresh = false): Promise<Order> {
    if (fresh) this.loader.clear(orderId);
    try {
      return await this.loader.load(orderId);
    } catch (err) {
      this.loader.clear(orderId);
      throw err;
    }
  }

  private async readMany(ids: readonly string[]): Promise<(Order | Error)[]> {
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(orderKey(id));
    const results = (await pipeline.exec()) ?? [];
    return ids.map((id, i) => {
      const [err, hash] = results[i] ?? [new Error('no reply')];
      if (err) return err;
      const fields = hash as Record<string, string>;
      if (Object.keys(fields).length === 0)
        return new UnknownOrderError(
          `no order "${id}" (key ${orderKey(id)} does not exist)`,
        );
      try {
        return orderFromHash(id, fields);
      } catch (e) {
        return e instanceof MalformedOrderError
          ? e
          : new MalformedOrderError(String(e));
      }
    });
  }
}
