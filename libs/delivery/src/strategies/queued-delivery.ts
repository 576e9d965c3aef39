import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { FailoverMonitor, withLogContext } from '@podium/observability';
import {
  appliedKey,
  eventChannel,
  globMatches,
  ORDERS_CHANNEL,
  type Order,
} from '@podium/orders';
import {
  GroupQueues,
  ORDER_JOB,
  orderJobOptions,
  QUEUE_PREFIX,
  type OrderJobData,
} from '@podium/queues';
import { createRedis, REDIS, ReplicaBarrier } from '@podium/redis';
import { DELIVERY_OPTIONS, type DeliveryOptions } from '../delivery.options.js';
import type { ListenerGroup, RunningListener } from '../listener-group.js';
import { ListenerStats } from '../listener-stats.js';
import {
  OrderWork,
  RejectedMessageError,
  type ListenerResult,
} from '../order-work.js';
import type { DeliveryStrategy } from './delivery-strategy.js';

/** Orders this process enqueued lately, per group: an order is announced on two channels. */
const RECENTLY_ENQUEUED = 10_000;
/** How long an enqueue that Redis refuses (down, out of memory) is tried again, 100 ms apart doubling to 5 s, before the order counts as lost. */
export const ENQUEUE_RETRY_MS = 60_000;

/**
 * At least once from the moment a listeners process heard the announcement: the
 * announcement only enqueues one BullMQ job per order for the group (job id = order id);
 * workers run the group's listeners on it, with retries and backoff. The backlog waits in
 * Redis, not in this process's memory. A job runs every member whose subscription matches
 * one of the order's two channels; a listener that fails is retried alone (the others'
 * markers are set), and after the last try the job waits in the failed set, naming it.
 * An enqueue that Redis refuses is tried again for ENQUEUE_RETRY_MS, holding its place in
 * flight (so the subscriber stops reading when many wait); only then is the order lost,
 * and counted so.
 */
@Injectable()
export class QueuedDelivery implements DeliveryStrategy {
  protected readonly logger = new Logger('Listeners');
  protected readonly groups: ListenerGroup[] = [];
  private readonly queueSet: GroupQueues;
  private readonly workers: {
    group: string;
    worker: Worker<OrderJobData>;
    connection: Redis;
  }[] = [];
  private readonly recent = new Map<string, LRUCache<string, true>>();
  /** Per group and event: the members an order of that event is for. */
  private readonly members = new Map<string, Map<string, RunningListener[]>>();
  private readonly replication: ReplicaBarrier;
  /** Names this app's workers in BullMQ's job.processedBy. */
  readonly workerName = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 6)}`;

  constructor(
    private readonly work: OrderWork,
    private readonly stats: ListenerStats,
    @Inject(REDIS) protected readonly redis: Redis,
    @Inject(DELIVERY_OPTIONS) private readonly options: DeliveryOptions,
    @Optional() failover?: FailoverMonitor,
  ) {
    const { replicas = 0, timeoutMs = 500 } = options.waitReplicas ?? {};
    this.replication = new ReplicaBarrier(replicas, timeoutMs, failover);
    this.queueSet = new GroupQueues(() =>
      createRedis(options.redisTarget, 'podium-queues', {
        autoPipelining: false,
      }),
    );
  }

  bind(group: ListenerGroup): void {
    this.groups.push(group);
    this.recent.set(group.name, new LRUCache({ max: RECENTLY_ENQUEUED }));
  }

  async start(): Promise<void> {
    for (const group of this.groups) this.startWorker(group);
  }

  async take(
    group: ListenerGroup,
    orderId: string,
    heard: readonly RunningListener[],
  ): Promise<void> {
    const recent = this.recent.get(group.name)!;
    if (recent.has(orderId)) return;
    recent.set(orderId, true);
    const giveUpAt = Date.now() + ENQUEUE_RETRY_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        if (await this.needsEnqueue(group, orderId)) {
          await this.queueSet
            .get(group.name)
            .add(
              ORDER_JOB,
              { orderId },
              orderJobOptions(orderId, this.options.queue),
            );
        }
        return;
      } catch (err) {
        if (Date.now() >= giveUpAt) {
          recent.delete(orderId);
          return this.stats.lost(
            orderId,
            heard,
            new Error(
              `could not be enqueued for group ${group.name}: ${(err as Error).message}`,
            ),
          );
        }
        if (attempt === 1)
          this.logger.warn(
            `[${group.name}] enqueueing order ${orderId} failed, trying again: ${(err as Error).message}`,
          );
        await sleep(Math.min(100 * 2 ** (attempt - 1), 5000));
      }
    }
  }

  /** Whether this process must add the job: in queued mode, every process that hears the order does. */
  protected async needsEnqueue(
    _group: ListenerGroup,
    _orderId: string,
  ): Promise<boolean> {
    return true;
  }

  queueOf(group: ListenerGroup): string {
    return group.name;
  }

  async check(): Promise<string[]> {
    const stopped = this.workers
      .filter((w) => !w.worker.isRunning())
      .map((w) => w.group);
    if (stopped.length > 0)
      throw new Error(`workers not running: ${stopped.join(', ')}`);
    const down = this.workers.find((w) => w.connection.status !== 'ready');
    if (down)
      throw new Error(
        `worker connection of ${down.group} is ${down.connection.status}`,
      );
    await Promise.all(this.workers.map((w) => w.connection.ping()));
    return this.workers.map((w) => w.group);
  }

  queues(): { group: string; queue: Queue }[] {
    return this.groups.map((g) => ({
      group: g.name,
      queue: this.queueSet.get(g.name),
    }));
  }

  /** Stops taking jobs, waits for the active ones, then closes the queues. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.close()));
    await Promise.all(
      this.workers.map((w) => w.connection.quit().catch(() => undefined)),
    );
    await this.queueSet.close();
  }

  private startWorker(group: ListenerGroup): void {
    const { concurrency, lockMs, stalledCheckMs } = this.options.queue;
    // Each worker has a connection of its own: sharing the enqueueing connection put lock
    // renewals behind bursts of adds, and jobs ran twice after their locks lapsed.
    const connection = createRedis(
      this.options.redisTarget,
      `podium-worker-${group.name}`,
      { autoPipelining: false },
    );
    const worker = new Worker<OrderJobData>(
      group.name,
      (job) => this.process(group, job),
      {
        connection,
        prefix: QUEUE_PREFIX,
        name: this.workerName,
        concurrency,
        lockDuration: lockMs,
        stalledInterval: stalledCheckMs,
        // A crash leaves jobs stalled; effects are idempotent, so running them again is safe.
        maxStalledCount: 10,
      },
    );
    worker.on('error', (err) =>
      this.logger.warn(`[${group.name}] worker: ${err.message}`),
    );
    this.workers.push({ group: group.name, worker, connection });
  }

  private process(group: ListenerGroup, job: Job<OrderJobData>): Promise<void> {
    const { orderId } = job.data;
    return withLogContext({ orderId }, async () => {
      const startedAt = performance.now();
      const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      let results: ListenerResult[];
      // A retry (a later try, or a failed job retried through the API) runs only the members
      // that have not applied the order yet, on the order as it is now in Redis.
      const retry = job.attemptsMade > 0 || job.data.failed !== undefined;
      // With REDIS_WAIT_REPLICAS a job completes only once replicas have its effects: else,
      // effects written on a primary that a failover then discarded would be lost while
      // the job's completion, written after the switch, stands. Not confirmed: this try failed.
      const effects = this.replication.watch(this.redis);
      try {
        const done = retry
          ? new Set(await this.redis.hkeys(appliedKey(orderId)))
          : undefined;
        results = await this.work.run(
          orderId,
          (order) =>
            this.membersFor(group, order).filter((l) => !done?.has(l.name)),
          { fresh: retry },
        );
        await effects.confirmed();
      } catch (err) {
        if (err instanceof RejectedMessageError) {
          this.stats.rejected(orderId, group.listeners, err);
          const failed = Object.fromEntries(
            group.listeners.map((l) => [l.name, err.message]),
          );
          await job
            .updateData({ ...job.data, failed, counted: 'rejected' })
            .catch(() => undefined);
          throw new UnrecoverableError(err.message);
        }
        // The order could not be read (Redis unreachable): every member failed this try.
        results = group.listeners.map((listener) => ({
          listener,
          outcome: 'failed',
          error: err as Error,
        }));
      }
      const failed = results.filter((r) => r.outcome === 'failed');
      this.stats.settled(
        orderId,
        results,
        startedAt,
        final || failed.length === 0,
      );
      if (failed.length === 0) return;
      const reasons = Object.fromEntries(
        failed.map((r) => [r.listener.name, r.error?.message ?? 'failed']),
      );
      await job
        .updateData({ ...job.data, failed: reasons })
        .catch(() => undefined);
      throw new Error(
        failed
          .map((r) => `${r.listener.name}: ${reasons[r.listener.name]}`)
          .join('; '),
      );
    });
  }

  /** The members whose subscription matches one of the order's channels (an announcement is both). */
  private membersFor(group: ListenerGroup, order: Order): RunningListener[] {
    let byEvent = this.members.get(group.name);
    if (!byEvent || byEvent.size > 10_000)
      this.members.set(group.name, (byEvent = new Map()));
    let members = byEvent.get(order.event);
    if (!members) {
      const channels = [ORDERS_CHANNEL, eventChannel(order.event)];
      members = group.listeners.filter((l) =>
        channels.some((channel) => globMatches(l.pattern, channel)),
      );
      byEvent.set(order.event, members);
    }
    return members;
  }
}
