import { Queue, type JobsOptions, type Telemetry } from 'bullmq';
import type { RedisClient } from '@podium/redis';
import { Keyspace, QUEUE_PREFIX } from '../keyspace/index.js';

/** The data of a job: the ids of the messages it carries (one or many), for one listener group. */
export interface MessageJobData {
  /** The message ids (the field's name predates other message types: queued jobs carry it). */
  orders: string[];
  /** A job queued before jobs carried batches: its one message id. */
  orderId?: string;
  /** Set when listeners of the group failed on the job's one message: listener -> error. */
  failed?: Record<string, string>;
  /** The listeners' counter the failure was counted in (rejected: no readable message); a retry takes it back. */
  counted?: 'failed' | 'rejected';
}

/** The message ids a job carries, whichever version queued it. */
export function jobMessageIds(data: MessageJobData): string[] {
  return data.orders ?? (data.orderId === undefined ? [] : [data.orderId]);
}

/** How often a job is tried, and the first retry's delay (it doubles with each try). */
export interface RetryPolicy {
  attempts: number;
  backoffMs: number;
}

/** A job's name, as bull-board shows it: how many messages it carries. */
export const jobName = (messages: number): string =>
  messages === 1 ? '1 message' : `${messages} messages`;

export function messageJobOptions(retry: RetryPolicy): JobsOptions {
  return {
    attempts: retry.attempts,
    backoff: { type: 'exponential', delay: retry.backoffMs },
    // A message is queued once per group by its enqueued marker, not by a job id, so a
    // completed job is not needed after it ran: the last thousand stay for a look in
    // bull-board, whatever the rate. Failed jobs (one message each) stay for inspection and
    // retry through the API.
    removeOnComplete: { count: 1000 },
    removeOnFail: false,
  };
}

/**
 * The job id of a job that retries one message of a batch: made of the batch's id and the
 * message's, so that a batch run again after a crash does not queue the retry twice. BullMQ
 * refuses ids with ':' and all-digit ids: ':' is escaped, and the id has a '-'.
 */
export function retryJobId(batchJobId: string, id: string): string {
  return `${batchJobId}-${id.replaceAll(':', '%3A')}`;
}

/**
 * Injection token: BullMQ's telemetry (`new BullMQOtel(...)` from bullmq-otel), passed as it
 * is to every queue and worker of the app (PodiumModule's `queue.telemetry`); none by default.
 */
export const QUEUE_TELEMETRY = Symbol('QUEUE_TELEMETRY');

/** A group's queue, on a connection of the caller's (BullMQ leaves it open on close). */
export function groupQueue(
  group: string,
  connection: RedisClient,
  keys: Keyspace = Keyspace.singleRedis,
  telemetry?: Telemetry,
): Queue<MessageJobData> {
  // On a cluster the name carries a hash tag: one queue, one slot (BullMQ needs its keys together).
  return new Queue<MessageJobData>(keys.queueName(group), {
    connection,
    prefix: QUEUE_PREFIX,
    telemetry,
  });
}

/**
 * The queues one process talks to, by group, on one connection of their own (BullMQ
 * defines its scripts on the connection, so it must not be an auto-pipelining one).
 */
export class GroupQueues {
  private connection?: RedisClient;
  private readonly queues = new Map<string, Queue<MessageJobData>>();

  constructor(
    private readonly connect: () => RedisClient,
    private readonly keys: Keyspace = Keyspace.singleRedis,
    /** BullMQ's telemetry, for these queues and the workers of their groups. */
    readonly telemetry?: Telemetry,
  ) {}

  get(group: string): Queue<MessageJobData> {
    let queue = this.queues.get(group);
    if (!queue) {
      queue = groupQueue(group, this.redis, this.keys, this.telemetry);
      this.queues.set(group, queue);
    }
    return queue;
  }

  /** The queues' connection, opened on first use. */
  get redis(): RedisClient {
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
