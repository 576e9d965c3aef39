import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';

/** BullMQ keys live under podium:queue:<group>:... */
export const QUEUE_PREFIX = 'podium:queue';
export const ORDER_JOB = 'order';

export interface OrderJobData {
  orderId: string;
  /** Set by a worker when listeners of the group failed on the order: listener -> error. */
  failed?: Record<string, string>;
  /** The listeners' counter the failure was counted in (rejected: no readable order); a retry takes it back. */
  counted?: 'failed' | 'rejected';
}

export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

/**
 * The job id of an order: the order id itself, so that every process enqueueing the same
 * order for a group makes one job. BullMQ refuses ids with ':' and all-digit ids, which
 * other publishers may use, so those are escaped the same way everywhere.
 */
export function jobIdFor(orderId: string): string {
  return /^\d+$/.test(orderId) || orderId.includes(':')
    ? `order-${orderId.replaceAll(':', '%3A')}`
    : orderId;
}

/** The hash BullMQ keeps for a job: it exists from the add until the job is removed. */
export function jobKey(group: string, orderId: string): string {
  return `${QUEUE_PREFIX}:${group}:${jobIdFor(orderId)}`;
}

export function orderJobOptions(
  orderId: string,
  retry: RetryPolicy,
): JobsOptions {
  return {
    jobId: jobIdFor(orderId),
    attempts: retry.attempts,
    backoff: { type: 'exponential', delay: retry.backoffMs },
    // Completed jobs stay a minute (at most 10,000), so that a listeners process hearing
    // an order the box office already queued sees its job and does not add it again; a
    // later duplicate is still caught by the applied markers. Kept longer, they cost Redis
    // several KB an order. Failed jobs stay for inspection and retry through the API.
    removeOnComplete: { age: 60, count: 10_000 },
    removeOnFail: false,
  };
}

/** A group's queue, on a connection of the caller's (BullMQ leaves it open on close). */
export function groupQueue(
  group: string,
  connection: Redis,
): Queue<OrderJobData> {
  return new Queue<OrderJobData>(group, { connection, prefix: QUEUE_PREFIX });
}

/**
 * The queues one process talks to, by group, on one connection of their own (BullMQ
 * defines its scripts on the connection, so it must not be an auto-pipelining one).
 */
export class GroupQueues {
  private connection?: Redis;
  private readonly queues = new Map<string, Queue<OrderJobData>>();

  constructor(private readonly connect: () => Redis) {}

  get(group: string): Queue<OrderJobData> {
    let queue = this.queues.get(group);
    if (!queue) {
      queue = groupQueue(group, this.redis);
      this.queues.set(group, queue);
    }
    return queue;
  }

  /** The queues' connection, opened on first use. */
  get redis(): Redis {
    this.connection ??= this.connect();
    return this.connection;
  }

  /** Whether a connection was opened (nothing to report or close otherwise). */
  get opened(): boolean {
    return this.connection !== undefined;
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    await this.connection?.quit().catch(() => undefined);
  }
}
