import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import {
  failedMessagesKey,
  Keyspace,
  listenerStatsKey,
  jobMessageIds,
  readDurableSubscriptions,
  readListenerCounts,
  readListenerDirectory,
  unaccountedOrders,
  type DurableSubscription,
  type ListenerEntry,
} from '@podium/core';
import { addAnnouncement, orderKey, ORDERS_CHANNEL } from '@podium/orders';
import { REDIS, type RedisClient } from '@podium/redis';
import { BoxOfficeQueues } from './box-office-queues.js';
import type {
  FailedOrder,
  ListenerStatus,
  QueueDepth,
} from './listener-status.js';

export type {
  FailedOrder,
  ListenerStatus,
  QueueDepth,
} from './listener-status.js';

/** How many failed orders of a listener the failed list and the retry look at. */
const FAILED_SCAN = 1000;

type Counted = 'failed' | 'rejected';

/** One failed order, wherever it is kept, with a way to run it again. */
interface FailedEntry extends FailedOrder {
  /** The counter it was counted in, and the listeners whose counter: a retry takes it back. */
  counted: Counted;
  countedFor: string[];
  retry(): Promise<unknown>;
}

/** What the listeners processes announced about themselves, with their counters and queues. */
@Injectable()
export class ListenersService {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly keyspace: Keyspace,
    private readonly queues: BoxOfficeQueues,
  ) {}

  async list(): Promise<ListenerStatus[]> {
    const [entries, durable] = await Promise.all([
      readListenerDirectory(this.redis),
      readDurableSubscriptions(this.redis),
    ]);
    const depths = new Map<string, Promise<QueueDepth>>();
    const statuses = await Promise.all(
      entries.map(async (entry): Promise<ListenerStatus> => {
        const queueName = queueOf(entry, durable);
        if (queueName && !depths.has(queueName))
          depths.set(queueName, this.depth(queueName));
        const [counts, queue] = await Promise.all([
          readListenerCounts(this.redis, this.keyspace, entry.name),
          queueName ? depths.get(queueName)! : null,
        ]);
        const lag = unaccountedOrders(counts);
        const waiting = queue
          ? queue.waiting + queue.active + queue.delayed
          : 0;
        return {
          name: entry.name,
          mode: entry.mode,
          group: entry.group,
          pattern: entry.pattern,
          durableSubscription: durable.some((s) =>
            s.listeners.includes(entry.name),
          ),
          counts,
          lag,
          lost: counts.lost + Math.max(0, lag - waiting),
          queue,
        };
      }),
    );
    return statuses.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The listener's orders that failed for good (every try, or no readable order), newest first. */
  async failed(listener: string, limit = 100): Promise<FailedOrder[]> {
    return (await this.failedEntries(listener))
      .slice(0, limit)
      .map(({ orderId, error, attempts, failedAt }) => ({
        orderId,
        error,
        attempts,
        failedAt,
      }));
  }

  /**
   * Runs the listener's failed orders again; returns how many. A queued or durable job runs
   * again for the group's listeners that have not applied the order (every listener it
   * failed for is retried with it); an ephemeral listener's order is announced again (the
   * listeners that applied it skip it). The order is read afresh, so a fixed order hash is seen.
   */
  async retryFailed(listener: string): Promise<number> {
    const entries = await this.failedEntries(listener);
    for (const entry of entries) {
      await entry.retry();
      for (const name of entry.countedFor)
        await this.redis.hincrby(
          this.keyspace.key(this.keyspace.sharedPlace, listenerStatsKey(name)),
          entry.counted,
          -1,
        );
    }
    return entries.length;
  }

  private async failedEntries(listener: string): Promise<FailedEntry[]> {
    const [entries, durable] = await Promise.all([
      readListenerDirectory(this.redis),
      readDurableSubscriptions(this.redis),
    ]);
    const entry = entries.find((e) => e.name === listener);
    if (!entry)
      throw new NotFoundException(
        `no listener "${listener}" has run against this Redis`,
      );
    const queueName = queueOf(entry, durable);
    return queueName
      ? this.failedJobs(listener, queueName)
      : this.failedAnnouncements(listener);
  }

  private async failedJobs(
    listener: string,
    queueName: string,
  ): Promise<FailedEntry[]> {
    const jobs = await this.queues.get(queueName).getFailed(0, FAILED_SCAN - 1);
    return jobs
      .filter((job) => !job.data.failed || listener in job.data.failed)
      .flatMap((job) => {
        // A failed job carries one order, unless Redis refused a whole batch to its last try.
        let retried: Promise<void> | undefined;
        const retry = () => (retried ??= job.retry('failed'));
        return jobMessageIds(job.data).map((orderId) => ({
          orderId,
          error: job.data.failed?.[listener] ?? job.failedReason,
          attempts: job.attemptsMade,
          failedAt: job.finishedOn
            ? new Date(job.finishedOn).toISOString()
            : null,
          counted: job.data.counted ?? 'failed',
          countedFor: job.data.failed
            ? Object.keys(job.data.failed)
            : [listener],
          retry,
        }));
      });
  }

  /** An ephemeral listener's failed set: retrying announces the order again, as the box office does. */
  private async failedAnnouncements(listener: string): Promise<FailedEntry[]> {
    const hash = await this.redis.hgetall(failedMessagesKey(listener));
    const entries = Object.entries(hash).map(([orderId, json]) => {
      const { error, failedAt, counted } = JSON.parse(json) as {
        error: string;
        failedAt: string;
        counted?: Counted;
      };
      return {
        orderId,
        error,
        attempts: 1,
        failedAt,
        counted: counted ?? 'failed',
        countedFor: [listener],
        retry: async () => {
          await this.redis.hdel(failedMessagesKey(listener), orderId);
          const event = await this.redis.hget(orderKey(orderId), 'event');
          // An order whose hash is gone has no event: its general channel alone says so.
          if (event === null) await this.redis.publish(ORDERS_CHANNEL, orderId);
          else await addAnnouncement(this.redis.multi(), orderId, event).exec();
        },
      };
    });
    return entries
      .sort((a, b) => b.failedAt.localeCompare(a.failedAt))
      .slice(0, FAILED_SCAN);
  }

  private async depth(name: string): Promise<QueueDepth> {
    const queue = this.queues.get(name);
    const [counts, [oldest]] = await Promise.all([
      queue.getJobCounts('waiting', 'active', 'delayed', 'failed'),
      queue.getJobs(['wait'], 0, 0, true),
    ]);
    return {
      waiting: counts.waiting ?? 0,
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
      oldestWaitingMs: oldest ? Date.now() - oldest.timestamp : null,
    };
  }
}

/** The queue a listener's orders wait in: its group's, or that of a durable subscription it is in. */
function queueOf(
  entry: ListenerEntry,
  durable: DurableSubscription[],
): string | null {
  return (
    entry.queue ??
    durable.find((s) => s.listeners.includes(entry.name))?.group ??
    null
  );
}
