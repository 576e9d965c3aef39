import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { appliedKey, QUEUE_PREFIX } from '@podium/core';
import { eventKey, orderFromHash, orderKey, type Order } from '@podium/orders';
import { PrivateRedis } from '@podium/testing';
import { EVENTS, PRICE } from './model.js';

export type KeyKind = 'orders' | 'markers' | 'queues' | 'podium' | 'effects';

function keyKind(key: string): KeyKind {
  if (key.startsWith(orderKey(''))) return 'orders';
  if (key.startsWith(appliedKey(''))) return 'markers';
  if (key.startsWith(`${QUEUE_PREFIX}:`)) return 'queues';
  if (key.startsWith('podium:')) return 'podium';
  return 'effects';
}

/** One command's count in INFO commandstats. */
export interface CommandStat {
  calls: number;
  usec: number;
}

/** Per command, what a window of a run cost Redis, per order: calls and microseconds. */
export function commandsPerOrder(
  before: Map<string, CommandStat>,
  after: Map<string, CommandStat>,
  orders: number,
): Record<string, CommandStat> {
  const per: Record<string, CommandStat> = {};
  for (const [name, end] of after) {
    const start = before.get(name) ?? { calls: 0, usec: 0 };
    const calls = end.calls - start.calls;
    if (calls <= 0 || name === 'info') continue;
    per[name] = {
      calls: Math.round((calls / orders) * 1000) / 1000,
      usec: Math.round(((end.usec - start.usec) / orders) * 100) / 100,
    };
  }
  return per;
}

/** The bench's own redis-server, on a free port: the only Redis the bench writes to or flushes. */
export class BenchRedis {
  private constructor(
    readonly server: PrivateRedis,
    readonly client: Redis,
    readonly logFile: string,
    /** redis-server's process id, for its CPU time. */
    readonly pid: number,
  ) {}

  static async start(logDir: string): Promise<BenchRedis> {
    const logFile = join(logDir, 'redis-server.log');
    const server = await PrivateRedis.start({ args: ['--logfile', logFile] });
    const client = server.client();
    const info = await client.info('server');
    return new BenchRedis(
      server,
      client,
      logFile,
      Number(/process_id:(\d+)/.exec(info)?.[1]),
    );
  }

  get url(): string {
    return this.server.url;
  }

  /** Empties the private Redis. */
  async flush(): Promise<void> {
    await this.client.flushall();
  }

  /** Empties the private Redis and creates the seed's four events. */
  async fresh(): Promise<void> {
    await this.flush();
    const multi = this.client.multi();
    for (const name of EVENTS)
      multi.hset(eventKey(name), { name, price: String(PRICE), sold: '0' });
    await multi.exec();
  }

  /**
   * INFO commandstats: per command (lower case), its calls and the microseconds Redis spent
   * in it. A script's commands count twice: in `evalsha` (the whole script) and each in its own.
   */
  async commandStats(): Promise<Map<string, CommandStat>> {
    const info = (await this.client.call('INFO', 'commandstats')) as string;
    const stats = new Map<string, CommandStat>();
    for (const [, name, calls, usec] of info.matchAll(
      /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm,
    ))
      stats.set(name, { calls: Number(calls), usec: Number(usec) });
    return stats;
  }

  /** Bytes Redis uses for data (INFO memory used_memory). */
  async usedMemory(): Promise<number> {
    return Number(
      /used_memory:(\d+)/.exec(await this.client.info('memory'))?.[1] ??
        Number.NaN,
    );
  }

  /**
   * What the keys hold, bytes (MEMORY USAGE, every element counted), by kind: the order
   * hashes, podium's applied markers, its BullMQ queues, podium's other keys, and the
   * listeners' effects (everything else). Estimates with the allocator's overhead: not
   * used_memory, which also counts Redis's own tables and buffers.
   */
  async memoryByKind(): Promise<Record<KeyKind, number>> {
    const out: Record<KeyKind, number> = {
      orders: 0,
      markers: 0,
      queues: 0,
      podium: 0,
      effects: 0,
    };
    let cursor = '0';
    do {
      const [next, keys] = await this.client.scan(cursor, 'COUNT', 1000);
      cursor = next;
      const pipeline = this.client.pipeline();
      for (const key of keys) pipeline.memory('USAGE', key, 'SAMPLES', 0);
      const replies = (await pipeline.exec()) ?? [];
      keys.forEach((key, i) => {
        out[keyKind(key)] += Number(replies[i]?.[1] ?? 0);
      });
    } while (cursor !== '0');
    return out;
  }

  /** Every order hash in Redis, read back as orders (the HTTP scenario learns its orders so). */
  orders(): Promise<Order[]> {
    return readOrders(this.client);
  }

  async version(): Promise<string> {
    const info = await this.client.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
  }

  /** Subscribers Redis has dropped for going over client-output-buffer-limit pubsub, so far. */
  outputBufferDisconnects(): number {
    try {
      return (
        readFileSync(this.logFile, 'utf8').match(
          /overcoming of output buffer limits/g,
        ) ?? []
      ).length;
    } catch {
      return 0;
    }
  }

  /** The largest output buffer (bytes) among pub/sub clients right now. */
  async pubsubOutputBufferMax(): Promise<number> {
    const list = (await this.client.call(
      'CLIENT',
      'LIST',
      'TYPE',
      'pubsub',
    )) as string;
    let max = 0;
    for (const match of list.matchAll(/\bomem=(\d+)/g))
      max = Math.max(max, Number(match[1]));
    return max;
  }

  /** Jobs of a BullMQ queue not yet completed: waiting, active, delayed (podium's group queues, or another prefix's). */
  async queueDepth(queue: string, prefix = QUEUE_PREFIX): Promise<number> {
    const key = (part: string) => `${prefix}:${queue}:${part}`;
    const replies =
      (await this.client
        .pipeline()
        .llen(key('wait'))
        .llen(key('active'))
        .zcard(key('delayed'))
        .zcard(key('prioritized'))
        .llen(key('paused'))
        .exec()) ?? [];
    return replies.reduce((sum, [, n]) => sum + Number(n ?? 0), 0);
  }

  /** Entries of a stream a consumer group has not acknowledged: not yet read (lag), or read and pending. */
  async streamBacklog(stream: string, group: string): Promise<number> {
    const groups = (await this.client
      .xinfo('GROUPS', stream)
      .catch(() => [])) as (string | number | null)[][];
    for (const fields of groups) {
      const info = new Map<string, unknown>();
      for (let i = 0; i < fields.length; i += 2)
        info.set(String(fields[i]), fields[i + 1]);
      if (info.get('name') === group)
        return Number(info.get('pending') ?? 0) + Number(info.get('lag') ?? 0);
    }
    return 0;
  }

  async destroy(): Promise<void> {
    await this.server.destroy();
  }
}

/** Every order hash of one Redis (a primary), read back as orders. */
export async function readOrders(client: Redis): Promise<Order[]> {
  const out: Order[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(
      cursor,
      'MATCH',
      `${orderKey('')}*`,
      'COUNT',
      1000,
    );
    cursor = next;
    const pipeline = client.pipeline();
    for (const key of keys) pipeline.hgetall(key);
    const replies = (await pipeline.exec()) ?? [];
    keys.forEach((key, i) =>
      out.push(
        orderFromHash(
          key.slice(orderKey('').length),
          replies[i][1] as Record<string, string>,
        ),
      ),
    );
  } while (cursor !== '0');
  return out;
}
