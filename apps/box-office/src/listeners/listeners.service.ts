import { Inject, Injectable, NotFoundException, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { PodiumEnv } from '@podium/config';
import { listenerStatsKey } from '@podium/orders';
import { LISTENER_DIRECTORY, ListenerQueues, readDurableSubscriptions, readListenerDirectory, type DeliveryMode } from '@podium/queues';
import { createRedis, REDIS } from '@podium/redis';

export interface QueueDepth {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  /** Age of the oldest waiting job, in milliseconds; null when none waits. */
  oldestWaitingMs: number | null;
}

export interface ListenerStatus {
  name: string;
  mode: DeliveryMode;
  pattern: string;
  /** A durable subscription is registered: the box office queues every order for it. */
  durableSubscription: boolean;
  counts: { applied: number; duplicates: number; rejected: number; failed: number };
  /** Null for a listener that has only ever run ephemeral (it has no queue). */
  queue: QueueDepth | null;
}

export interface FailedOrder {
  orderId: string;
  error: string;
  attempts: number;
  failedAt: string | null;
}

/** What the listeners processes announced about themselves, with their counters and queues. */
@Injectable()
export class ListenersService implements OnApplicationShutdown {
  private readonly queues: ListenerQueues;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    env: PodiumEnv,
  ) {
    this.queues = new ListenerQueues(() => createRedis(env.REDIS_URL, 'podium-box-office-queues', { autoPipelining: false }));
  }

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

  async onApplicationShutdown(): Promise<void> {
    await this.queues.close();
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
