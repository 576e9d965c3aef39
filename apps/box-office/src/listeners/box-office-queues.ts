import { Inject, Injectable, Optional, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { PodiumEnv } from '@podium/config';
import { METRICS_REGISTRY, registerQueueMetrics } from '@podium/observability';
import { ListenerQueues, readDurableSubscriptions, readListenerDirectory, type OrderJobData } from '@podium/queues';
import { createRedis, REDIS } from '@podium/redis';

/**
 * The listener queues as the box office sees them, on one connection of its own: the
 * listeners API, the queue dashboard and the queue metrics share it. A listener has a queue
 * when the listeners process that last started it ran it queued or durable, or when it
 * holds a durable subscription (the box office enqueues for it).
 */
@Injectable()
export class BoxOfficeQueues implements OnApplicationShutdown {
  private readonly queues: ListenerQueues;
  private opened = false;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    env: PodiumEnv,
  ) {
    this.queues = new ListenerQueues(() => {
      this.opened = true;
      return createRedis(env.REDIS_URL, 'podium-box-office-queues', { autoPipelining: false });
    });
  }

  get(listener: string): Queue<OrderJobData> {
    return this.queues.get(listener);
  }

  /** The queues' connection, once one was opened. */
  get connection(): Redis | undefined {
    return this.opened ? this.queues.redis : undefined;
  }

  /** Names of the listeners that have a queue. */
  async listenersWithQueues(): Promise<string[]> {
    const [entries, durable] = await Promise.all([readListenerDirectory(this.redis), readDurableSubscriptions(this.redis)]);
    const names = new Set(entries.filter((e) => e.mode !== 'ephemeral').map((e) => e.name));
    for (const subscription of durable) names.add(subscription.listener);
    return [...names].sort();
  }

  /** Every listener queue, opened on this connection. */
  async all(): Promise<{ listener: string; queue: Queue<OrderJobData> }[]> {
    return (await this.listenersWithQueues()).map((listener) => ({ listener, queue: this.get(listener) }));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queues.close();
  }
}

/** podium_queue_jobs and podium_queue_oldest_waiting_job_age_seconds for every listener queue. */
@Injectable()
export class BoxOfficeQueueMetrics implements OnModuleInit {
  constructor(
    private readonly queues: BoxOfficeQueues,
    @Optional() @Inject(METRICS_REGISTRY) private readonly registry?: Registry,
  ) {}

  onModuleInit(): void {
    if (!this.registry) return;
    registerQueueMetrics(this.registry, { connection: () => this.queues.connection, queues: () => this.queues.all() });
  }
}
