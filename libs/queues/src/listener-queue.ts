import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';

/** BullMQ keys live under podium:queue:<listener>:... */
export const QUEUE_PREFIX = 'podium:queue';
export const ORDER_JOB = 'order';

export interface OrderJobData {
  orderId: string;
}

export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

/**
 * The job id of an order: the order id itself, so that every process enqueueing the same
 * order for a listener makes one job. BullMQ refuses ids with ':' and all-digit ids, which
 * other publishers may use, so those are escaped the same way everywhere.
 */
export function jobIdFor(orderId: string): string {
  return /^\d+$/.test(orderId) || orderId.includes(':') ? `order-${orderId.replaceAll(':', '%3A')}` : orderId;
}

export function orderJobOptions(orderId: string, retry: RetryPolicy): JobsOptions {
  return {
    jobId: jobIdFor(orderId),
    attempts: retry.attempts,
    backoff: { type: 'exponential', delay: retry.backoffMs },
    // Completed jobs stay a minute (at most 10,000), so that the listeners' enqueue of an
    // order the box office already queued is recognised; a later duplicate is still caught
    // by the applied marker. Kept longer, they cost Redis ~7 KB an order. Failed jobs stay
    // for inspection and retry through the API.
    removeOnComplete: { age: 60, count: 10_000 },
    removeOnFail: false,
  };
}

/** A listener's queue, on a connection of the caller's (BullMQ leaves it open on close). */
export function listenerQueue(listener: string, connection: Redis): Queue<OrderJobData> {
  return new Queue<OrderJobData>(listener, { connection, prefix: QUEUE_PREFIX });
}

/**
 * The queues of one process, by listener, on one connection of their own (BullMQ defines
 * its scripts on the connection, so it must not be an auto-pipelining one).
 */
export class ListenerQueues {
  private connection?: Redis;
  private readonly queues = new Map<string, Queue<OrderJobData>>();

  constructor(private readonly connect: () => Redis) {}

  get(listener: string): Queue<OrderJobData> {
    let queue = this.queues.get(listener);
    if (!queue) {
      queue = listenerQueue(listener, this.redis);
      this.queues.set(listener, queue);
    }
    return queue;
  }

  /** The shared connection, for BullMQ workers too. */
  get redis(): Redis {
    this.connection ??= this.connect();
    return this.connection;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    await this.connection?.quit().catch(() => undefined);
  }
}
