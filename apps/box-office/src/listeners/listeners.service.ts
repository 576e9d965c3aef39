import { Inject, Injectable, NotFoundException } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { listenerStatsKey } from '@podium/orders';
import { LISTENER_DIRECTORY, readDurableSubscriptions, readListenerDirectory } from '@podium/queues';
import { REDIS } from '@podium/redis';
import { BoxOfficeQueues } from './box-office-queues.js';
import type { FailedOrder, ListenerStatus, QueueDepth } from './listener-status.js';

export type { FailedOrder, ListenerStatus, QueueDepth } from './listener-status.js';

/** What the listeners processes announced about themselves, with their counters and queues. */
@Injectable()
export class ListenersService {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly queues: BoxOfficeQueues,
  ) {}

  async list(): Promise<ListenerStatus[]> {
    const [entries, durable] = await Promise.all([readListenerDirectory(this.redis), readDurableSubscriptions(this.redis)]);
    const durableNames = new Set(durable.map((s) => s.listener));
    const statuses = await Promise.all(
      entries.map(async (entry): Promise<ListenerStatus> => {
        const hasQueue = entry.mode !== 'ephemeral' || durableNames.has(entry.name);
        return {
          name: entry.name,
          mode: entry.mode,
          pattern: entry.pattern,
          durableSubscription: durableNames.has(entry.name),
          counts: await this.counts(entry.name),
          queue: hasQueue ? await this.depth(entry.name) : null,
        };
      }),
    );
    return statuses.sort((a, b) => a.name.localeCompare(b.name));
  }

  async failed(listener: string, limit = 100): Promise<FailedOrder[]> {
    await this.mustExist(listener);
    const jobs = await this.queues.get(listener).getFailed(0, limit - 1);
    return jobs.map((job) => ({
      orderId: job.data.orderId,
      error: job.failedReason,
      attempts: job.attemptsMade,
      failedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
    }));
  }

  /** Moves every failed job of the listener back to waiting; returns how many. */
  async retryFailed(listener: string): Promise<number> {
    await this.mustExist(listener);
    const queue = this.queues.get(listener);
    const failed = await queue.getFailedCount();
    if (failed > 0) await queue.retryJobs({ state: 'failed', count: 1000 });
    return failed;
  }

  private async mustExist(listener: string): Promise<void> {
    if (!(await this.redis.hexists(LISTENER_DIRECTORY, listener))) {
      throw new NotFoundException(`no listener "${listener}" has run against this Redis`);
    }
  }

  private async counts(listener: string): Promise<ListenerStatus['counts']> {
    const stats = await this.redis.hgetall(listenerStatsKey(listener));
    const n = (field: string) => Number(stats[field] ?? 0);
    return { applied: n('applied'), duplicates: n('duplicates'), rejected: n('rejected'), failed: n('failed') };
  }

  private async depth(listener: string): Promise<QueueDepth> {
    const queue = this.queues.get(listener);
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
