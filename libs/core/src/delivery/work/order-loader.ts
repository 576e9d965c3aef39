import { Inject, Injectable } from '@nestjs/common';
import DataLoader from 'dataloader';
import { LRUCache } from 'lru-cache';
import {
  MalformedOrderError,
  orderFromHash,
  orderKey,
  type Order,
} from '@podium/orders';
import { REDIS, type RedisClient } from '@podium/redis';

export class UnknownOrderError extends Error {}

/**
 * Reads order hashes for every listener in this process. One announcement reaches several
 * listeners (and each order is announced on two channels), so the reads of one tick go to
 * Redis together (DataLoader, on the auto-pipelining connection: one write per server)
 * and recent orders are cached: orders do not change once recorded (a retry reads afresh,
 * since a poison order may have been fixed).
 */
@Injectable()
export class OrderLoader {
  private readonly loader: DataLoader<string, Order>;

  constructor(@Inject(REDIS) private readonly redis: RedisClient) {
    this.loader = new DataLoader((ids) => this.readMany(ids), {
      cacheMap: new LRUCache<string, Promise<Order>>({
        max: 20_000,
        ttl: 60_000,
      }),
    });
  }

  /**
   * The orders, in the order asked, each an Order or the reason it cannot be had:
   * UnknownOrderError, MalformedOrderError (neither is cached), or Redis's error.
   * `fresh` skips the cache.
   */
  async loadMany(
    ids: readonly string[],
    fresh = false,
  ): Promise<(Order | Error)[]> {
    if (fresh) for (const id of ids) this.loader.clear(id);
    const orders = await this.loader.loadMany(ids);
    orders.forEach((order, i) => {
      if (order instanceof Error) this.loader.clear(ids[i]);
    });
    return orders;
  }

  private async readMany(ids: readonly string[]): Promise<(Order | Error)[]> {
    const hashes = await Promise.allSettled(
      ids.map((id) => this.redis.hgetall(orderKey(id))),
    );
    return ids.map((id, i) => {
      const read = hashes[i];
      if (read.status === 'rejected')
        return read.reason instanceof Error
          ? read.reason
          : new Error(String(read.reason));
      if (Object.keys(read.value).length === 0)
        return new UnknownOrderError(
          `no order "${id}" (key ${orderKey(id)} does not exist)`,
        );
      try {
        return orderFromHash(id, read.value);
      } catch (e) {
        return e instanceof MalformedOrderError
          ? e
          : new MalformedOrderError(String(e));
      }
    });
  }
}
