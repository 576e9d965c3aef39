import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { listenerStatsKey } from '@podium/orders';
import { readDurableSubscriptions, readListenerDirectory, type DurableSubscription, type ListenerEntry, type OrderJobData } from '@podium/queues';
import { REDIS } from '@podium/redis';
import { BoxOfficeQueues } from './box-office-queues.js';
import type { FailedOrder, ListenerStatus, QueueDepth } from './listener-status.js';

export type { FailedOrder, ListenerStatus, QueueDepth } from './listener-status.js';

/** How many failed jobs of a group the failed list and the retry look at. */
const FAILED_SCAN = 1000;

/** What the listeners processes announced about themselves, with their counters and queues. */
@Injectable()
export class ListenersService {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly queues: BoxOfficeQueues,
  ) {}

  async list(): Promise<ListenerStatus[]> {
    const [entries, durable] = await Promise.all([readListenerDirectory(this.redis), readDurableSubscriptions(this.redis)]);
    const depths = new Map<string, Promise<QueueDepth>>();
    const statuses = await Promise.all(
      entries.map(async (entry): Promise<ListenerStatus> => {
        const queue = queueOf(entry, durable);
        if (queue && !depths.has(queue)) depths.set(queue, this.depth(queue));
        return {
          name: entry.name,
          mode: entry.mode,
          group: entry.group,
          pattern: entry.pattern,
          durableSubscription: durable.some((s) => s.listeners.includes(entry.name)),
          counts: await this.counts(entry.name),
          queue: queue ? await depths.get(queue)! : null,
        };
      }),
    );
    return statuses.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The listener's orders that failed every try, newest first (its group's failed jobs that name it). */
  async failed(listener: string, limit = 100): Promise<FailedOrder[]> {
    const jobs = (await this.failedJobs(listener)).slice(0, limit);
    return jobs.map((job) => ({
      orderId: job.data.orderId,
      error: job.data.failed?.[listener] ?? job.failedReason,
      attempts: job.attemptsMade,
      failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
    }));
  }

  /**
   * Runs the listener's failed orders again; returns how many. The job re-runs only the
   * group's listeners that have not applied the order yet.
   */
  async retryFailed(listener: string): Promise<number> {
    const jobs = await this.failedJobs(listener);
    await Promise.all(jobs.map((job) => job.retry('failed')));
    return jobs.length;
  }

  private async failedJobs(listener: string): Promise<Job<OrderJobData>[]> {
    const [entries, durable] = await Promise.all([readListenerDirectory(this.redis), readDurableSubscriptions(this.redis)]);
    const entry = entries.find((e) => e.name === listener);
    if (!entry) throw new NotFoundException(`no listener "${listener}" has run against this Redis`);
    const queue = queueOf(entry, durable);
    if (!queue) return [];
    const jobs = await this.queues.get(queue).getFailed(0, FAILED_SCAN - 1);
    // A job that failed as a whole (no readable order) concerns every member.
    return jobs.filter((job) => !job.data.failed || listener in job.data.failed);
  }

  private async counts(listener: string): Promise<ListenerStatus['counts']> {
    const stats = await this.redis.hgetall(listenerStatsKey(listener));
    const n = (field: string) => Number(stats[field] ?? 0);
    return { applied: n('applied'), duplicates: n('duplicates'), rejected: n('rejected'), failed: n('failed') };
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
function queueOf(entry: ListenerEntry, durable: DurableSubscription[]): string | null {
  return entry.queue ?? durable.find((s) => s.listeners.includes(entry.name))?.group ?? null;
}
