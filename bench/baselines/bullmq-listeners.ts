/**
 * Baseline (c): the durable layer a NestJS user would write by hand with BullMQ. One Worker
 * per listener queue (concurrency 16, a connection of its own, job locks as short as
 * podium's), each job running the seed's handler as it is: no idempotency, so a job run again
 * after a crash (its lock expired, the stalled check put it back) applies its effects twice.
 * The jobs are added by the bench's publisher (bullmq-queues.ts).
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { redisOptionsFromUrl } from '@podium/redis';
import { listenerNames } from '../lib/model.js';
import { childConfig, Sampler } from '../processes/sampler.js';
import { BULLMQ_PREFIX, type OrderJob } from './bullmq-queues.js';
import { seedListeners, type SeedListener } from './seed-handlers.js';

async function main(): Promise<void> {
  const config = childConfig();
  const options = redisOptionsFromUrl(config.redisUrl);
  // podium's defaults, and the crash scenario's shorter ones in --quick.
  const lockDuration = Number(config.env.QUEUE_LOCK_MS ?? 5000);
  const stalledInterval = Number(config.env.QUEUE_STALLED_CHECK_MS ?? 2000);
  const sampler = new Sampler(listenerNames(config.variant));
  // The handlers' commands: one shared connection, as an injected Redis client would be.
  const redis = new Redis({ ...options, connectionName: 'bullmq-baseline' });
  redis.on('error', (err: Error) => console.error(`Redis: ${err.message}`));
  const connections: Redis[] = [redis];
  const workers: Worker[] = [];
  let reconnects = 0;

  const start = async (listener: SeedListener): Promise<() => number> => {
    const connection = new Redis({
      ...options,
      connectionName: `bullmq-baseline-${listener.name}`,
      maxRetriesPerRequest: null,
    });
    connection.on('reconnecting', () => reconnects++);
    connection.on('error', (err: Error) =>
      console.error(`[${listener.name}] Redis: ${err.message}`),
    );
    connections.push(connection);
    let active = 0;
    const worker = new Worker<OrderJob>(
      listener.name,
      async (job) => {
        active++;
        try {
          if (await listener.handle(redis, job.data.orderId))
            sampler.record(listener.name, job.data.orderId);
        } catch (err) {
          sampler.errors++;
          throw err; // BullMQ retries it, and tells 'failed'
        } finally {
          active--;
        }
      },
      {
        connection,
        prefix: BULLMQ_PREFIX,
        concurrency: 16,
        lockDuration,
        stalledInterval,
      },
    );
    worker.on('error', (err) =>
      console.error(`[${listener.name}] worker: ${err.message}`),
    );
    // A handler's error (retried while attempts last), or a job stalled more often than maxStalledCount (1) allows.
    worker.on('failed', (job, err) => {
      console.error(
        `[${listener.name}] order ${job?.data.orderId} failed (try ${job?.attemptsMade} of ${job?.opts.attempts}): ${err.message}`,
      );
    });
    workers.push(worker);
    await worker.waitUntilReady();
    return () => active;
  };

  const active = await Promise.all(seedListeners(config.variant).map(start));
  sampler.start({
    pending: () => active.map((n) => n()),
    reconnects: () => reconnects,
    onStop: async () => {
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all(
        connections.map((c) => c.quit().catch(() => c.disconnect())),
      );
    },
  });
}

main().catch((err: Error) => {
  console.error(
    `bench bullmq listeners: cannot start: ${err.stack ?? err.message}`,
  );
  process.exit(1);
});
