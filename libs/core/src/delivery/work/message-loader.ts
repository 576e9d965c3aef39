import { Inject, Injectable } from '@nestjs/common';
import DataLoader from 'dataloader';
import { LRUCache } from 'lru-cache';
import {
  MalformedMessageError,
  UnknownMessageError,
  type AnyMessageType,
} from '../../messages/index.js';
import { REDIS, type RedisClient } from '@podium/redis';

/**
 * Reads records for every listener in this process. One announcement reaches several
 * listeners (and a message may be announced on several channels), so the reads of one
 * tick go to Redis together (DataLoader, on the auto-pipelining connection: one write per
 * server) and recent messages are cached, per type: a message does not change once
 * recorded (a retry reads afresh, since a poison message may have been fixed).
 */
@Injectable()
export class MessageLoader {
  private readonly loaders = new Map<
    AnyMessageType,
    DataLoader<string, unknown>
  >();

  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  /**
   * The messages, in the order asked, each a message or the reason it cannot be had:
   * UnknownMessageError, MalformedMessageError (neither is cached), or Redis's error.
   * `fresh` skips the cache.
   */
  async loadMany(
    type: AnyMessageType,
    ids: readonly string[],
    fresh = false,
  ): Promise<unknown[]> {
    const loader = this.loaderOf(type);
    if (fresh) for (const id of ids) loader.clear(id);
    const messages = await loader.loadMany(ids);
    messages.forEach((message, i) => {
      if (message instanceof Error) loader.clear(ids[i]);
    });
    return messages;
  }

  private loaderOf(type: AnyMessageType): DataLoader<string, unknown> {
    let loader = this.loaders.get(type);
    if (!loader) {
      loader = new DataLoader((ids) => this.readMany(type, ids), {
        cacheMap: new LRUCache<string, Promise<unknown>>({
          max: 20_000,
          ttl: 60_000,
        }),
      });
      this.loaders.set(type, loader);
    }
    return loader;
  }

  private async readMany(
    type: AnyMessageType,
    ids: readonly string[],
  ): Promise<unknown[]> {
    const hashes = await Promise.allSettled(
      ids.map((id) => this.redis.hgetall(type.recordKey(id))),
    );
    return ids.map((id, i) => {
      const read = hashes[i];
      if (read.status === 'rejected')
        return read.reason instanceof Error
          ? read.reason
          : new Error(String(read.reason));
      if (Object.keys(read.value).length === 0)
        return new UnknownMessageError(
          `no ${type.name} "${id}" (key ${type.recordKey(id)} does not exist)`,
        );
      try {
        return type.fromHash(id, read.value) as unknown;
      } catch (e) {
        return e instanceof MalformedMessageError
          ? e
          : new MalformedMessageError(String(e));
      }
    });
  }
}
