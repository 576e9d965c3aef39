import {
  Inject,
  Injectable,
  Optional,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { Registry } from 'prom-client';
import {
  PODIUM_SETTINGS,
  type PodiumSettings,
  METRICS_REGISTRY,
  registerQueueMetrics,
  GroupQueues,
  readDurableSubscriptions,
  readListenerDirectory,
  type MessageJobData,
  Keyspace,
} from '@podium/core';
import { createRedis, REDIS, type RedisClient } from '@podium/redis';

/**
 * The listener groups' queues as the box office sees them, on one connection of its own:
 * the listeners API, the queue dashboard and the queue metrics share it. A group has a
 * queue when the listeners process that last started one of its listeners delivered it
 * through one, or when it holds a durable subscription (the box office enqueues for it).
 */
@Injectable()
export class BoxOfficeQueues implements OnApplicationShutdown {
  private readonly queues: GroupQueues;

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(PODIUM_SETTINGS) env: PodiumSettings,
    keys: Keyspace,
  ) {
    this.queues = new GroupQueues(
      () =>
        createRedis(env.redisTarget, 'podium-box-office-queues', {
          autoPipelining: false,
        }),
      keys,
    );
  }

  get(group: string): Queue<MessageJobData> {
    return this.queues.get(group);
  }

  /** The queues' connection, once one was opened. */
  get connection(): RedisClient | undefined {
    return this.queues.opened ? this.queues.redis : undefined;
  }

  /** Names of the queues: one per listener group that has one. */
  async names(): Promise<string[]> {
    const [entries, durable] = await Promise.all([
      readListenerDirectory(this.redis),
      readDurableSubscriptions(this.redis),
    ]);
    const names = new Set(entries.flatMap((e) => (e.queue ? [e.queue] : [])));
    for (const subscription of durable) names.add(subscription.group);
    return [...names].sort();
  }

  /** Every group queue, opened on this connection. */
  async all(): Promise<{ name: string; queue: Queue<MessageJobData> }[]> {
    return (await this.names()).map((name) => ({
      name,
      queue: this.get(name),
    }));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queues.close();
  }
}

/** podium_queue_jobs and podium_queue_oldest_waiting_job_age_seconds for every group queue. */
@Injectable()
export class BoxOfficeQueueMetrics implements OnModuleInit {
  constructor(
    private readonly queues: BoxOfficeQueues,
    @Optional() @Inject(METRICS_REGISTRY) private readonly registry?: Registry,
  ) {}

  onModuleInit(): void {
    if (!this.registry) return;
    registerQueueMetrics(this.registry, {
      connection: () => this.queues.connection,
      queues: () => this.queues.all(),
    });
  }
}
