/**
 * Baseline (d): the fastest exactly-once design on plain Redis that we know of. The bench's
 * publisher XADDs every order id to one stream (orders-stream.ts); each listener reads it
 * through a consumer group of its own, in batches (XREADGROUP COUNT 100 BLOCK), reads the
 * batch's orders in one pipeline, and applies the seed's writes for the whole batch together
 * with the XACK of its entries in one MULTI: an effect is applied if and only if its entry is
 * acknowledged, so a kill -9 can neither lose an order nor apply one twice. The consumer name
 * is fixed, so a restarted process first reads that consumer's pending entries (id 0): what
 * the killed one had read and not acknowledged.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { orderKey } from '@podium/orders';
import { redisOptionsFromUrl } from '@podium/redis';
import { listenerNames, listenersFor } from '../lib/model.js';
import { childConfig, Sampler } from '../processes/sampler.js';
import { ORDER_FIELD, ORDERS_STREAM } from './orders-stream.js';
import {
  exec,
  seedListeners,
  type OrderHash,
  type SeedListener,
} from './seed-handlers.js';

const BATCH = 100;
const BLOCK_MS = 500;
/** One consumer per group, named the same in every process, so a new process owns the pending entries of a killed one. */
const CONSUMER = 'listeners';

type Entry = [id: string, fields: string[] | null];

async function main(): Promise<void> {
  const config = childConfig();
  const options = redisOptionsFromUrl(config.redisUrl);
  const sampler = new Sampler(listenerNames(config.variant));
  const connections: Redis[] = [];
  let reconnects = 0;
  let stopping = false;

  const consume = async (
    listener: SeedListener,
    redis: Redis,
    holding: { n: number },
  ): Promise<void> => {
    const group = listener.name;
    // First this consumer's pending entries, page by page; then new ones.
    let cursor = '0';
    while (!stopping) {
      try {
        const reply = (await redis.xreadgroup(
          'GROUP',
          group,
          CONSUMER,
          'COUNT',
          BATCH,
          'BLOCK',
          BLOCK_MS,
          'STREAMS',
          ORDERS_STREAM,
          cursor,
        )) as [string, Entry[]][] | null;
        const entries = reply?.[0]?.[1] ?? [];
        if (cursor !== '>')
          cursor = entries.length ? entries[entries.length - 1][0] : '>';
        if (entries.length === 0) continue;
        holding.n = entries.length;
        await applyBatch(listener, redis, entries);
      } catch (err) {
        sampler.errors++;
        console.error(`[${group}] batch: ${(err as Error).message}`);
        cursor = '0'; // what was read stays pending: read it again
        await sleep(100);
      } finally {
        holding.n = 0;
      }
    }
  };

  const applyBatch = async (
    listener: SeedListener,
    redis: Redis,
    entries: Entry[],
  ): Promise<void> => {
    const orderIds = entries.map(([, fields]) =>
      fields ? fields[fields.indexOf(ORDER_FIELD) + 1] : '',
    );
    const read = redis.pipeline();
    for (const id of orderIds) read.hgetall(orderKey(id));
    if (listener.counter)
      read.hget(listener.counter.key, listener.counter.field);
    const replies = (await read.exec()) ?? [];
    for (const [err] of replies) if (err) throw err;
    // Only this group writes its counter, so the value read is the one its MULTI increments.
    let count = listener.counter ? Number(replies[orderIds.length][1] ?? 0) : 0;
    const tx = redis.multi();
    const applied: string[] = [];
    orderIds.forEach((orderId, k) => {
      const order = replies[k][1] as OrderHash;
      if (!order.event) {
        sampler.errors++;
        console.error(
          `[${listener.name}] no order ${orderId}: acknowledged without effect`,
        );
        return;
      }
      if (!listenersFor(order.event, config.variant).includes(listener.name))
        return;
      listener.write(tx, orderId, order, count++);
      applied.push(orderId);
    });
    if (listener.delayMs) await sleep(listener.delayMs * applied.length);
    tx.xack(ORDERS_STREAM, listener.name, ...entries.map(([id]) => id));
    await exec(tx);
    for (const orderId of applied) sampler.record(listener.name, orderId);
  };

  const listeners = seedListeners(config.variant);
  const holding = listeners.map(() => ({ n: 0 }));
  const loops: Promise<void>[] = [];
  for (const [i, listener] of listeners.entries()) {
    const redis = new Redis({
      ...options,
      connectionName: `streams-baseline-${listener.name}`,
    });
    redis.on('reconnecting', () => reconnects++);
    redis.on('error', (err: Error) =>
      console.error(`[${listener.name}] Redis: ${err.message}`),
    );
    connections.push(redis);
    // From the stream's first entry; a restarted process finds the group where the last one left it.
    await redis
      .xgroup('CREATE', ORDERS_STREAM, listener.name, '0', 'MKSTREAM')
      .catch((err: Error) => {
        if (!err.message.startsWith('BUSYGROUP')) throw err;
      });
    loops.push(consume(listener, redis, holding[i]));
  }
  sampler.start({
    pending: () => holding.map((h) => h.n),
    reconnects: () => reconnects,
    onStop: async () => {
      stopping = true;
      await Promise.all(loops);
      await Promise.all(
        connections.map((c) => c.quit().catch(() => c.disconnect())),
      );
    },
  });
}

main().catch((err: Error) => {
  console.error(
    `bench streams listeners: cannot start: ${err.stack ?? err.message}`,
  );
  process.exit(1);
});
