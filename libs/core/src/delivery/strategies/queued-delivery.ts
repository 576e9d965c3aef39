import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { isPlausibleMessageId } from '../../messages/index.js';
import { MessageEnqueuer } from '../../queues/index.js';
import { FailoverMonitor } from '../../observability/index.js';
import { REDIS, ReplicaBarrier, type RedisClient } from '@podium/redis';
import { DeliveryMetrics } from '../delivery-metrics.js';
import { DELIVERY_OPTIONS, type DeliveryOptions } from '../delivery.options.js';
import type { ListenerGroup } from '../listener-group.js';
import { ListenerStats } from '../listener-stats.js';
import { MessageWork, RejectedMessageError } from '../work/message-work.js';
import type { DeliveryStrategy, Heard } from './delivery-strategy.js';
import { GroupWorker } from './group-worker.js';

/** How long a claim that Redis refuses (down, out of memory) is tried again, 100 ms apart doubling to 5 s, before the messages count as lost. */
export const ENQUEUE_RETRY_MS = 60_000;

/**
 * At least once from the moment a listeners process heard the announcement: the
 * announcements of a batch only queue one BullMQ job for the group, carrying the messages
 * not queued for it yet (MessageEnqueuer.claim: a message is queued once per group, however
 * many processes hear it); workers (GroupWorker) run the group's listeners on them, with
 * retries and backoff. The backlog waits in Redis, not in this process's memory. A claim
 * that Redis refuses is tried again for ENQUEUE_RETRY_MS, holding its place in flight (so
 * the subscriber stops reading when many wait); only then are the messages lost, and counted
 * so. Claimed messages whose job could not be added wait in the outbox for a relay.
 */
@Injectable()
export class QueuedDelivery implements DeliveryStrategy {
  protected readonly logger = new Logger('Listeners');
  protected readonly groups: ListenerGroup[] = [];
  private readonly workers: GroupWorker[] = [];
  private readonly replication: ReplicaBarrier;
  /** Names this app's workers in BullMQ's job.processedBy. */
  readonly workerName = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 6)}`;

  constructor(
    protected readonly work: MessageWork,
    protected readonly stats: ListenerStats,
    private readonly metrics: DeliveryMetrics,
    protected readonly enqueuer: MessageEnqueuer,
    @Inject(REDIS) protected readonly redis: RedisClient,
    @Inject(DELIVERY_OPTIONS) private readonly options: DeliveryOptions,
    @Optional() failover?: FailoverMonitor,
  ) {
    const { replicas = 0, timeoutMs = 500 } = options.waitReplicas ?? {};
    this.replication = new ReplicaBarrier(replicas, timeoutMs, failover);
  }

  bind(group: ListenerGroup): void {
    this.groups.push(group);
  }

  start(): Promise<void> {
    for (const group of this.groups)
      this.workers.push(
        new GroupWorker(group, {
          work: this.work,
          stats: this.stats,
          metrics: this.metrics,
          enqueuer: this.enqueuer,
          redis: this.redis,
          redisTarget: this.options.redisTarget,
          replication: this.replication,
          settings: this.options.queue,
          workerName: this.workerName,
        }),
      );
    return Promise.resolve();
  }

  async take(group: ListenerGroup, batch: readonly Heard[]): Promise<void> {
    const messages = batch.filter(({ id, listeners }) => {
      if (isPlausibleMessageId(id)) return true;
      const why = `payload is not a message id: ${JSON.stringify(id.slice(0, 80))}`;
      this.stats.rejected(id, listeners, new RejectedMessageError(why));
      return false;
    });
    const ids = messages.map((m) => m.id);
    const giveUpAt = Date.now() + ENQUEUE_RETRY_MS;
    let claimed: string[] | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        // The markers and outbox entries of a message live with its record.
        const placeOf = (id: string) =>
          this.enqueuer.keys.recordPlace(group.type, id);
        claimed ??= await this.enqueuer.claim(group.name, ids, placeOf);
        await this.enqueuer.enqueue(group.name, claimed, placeOf);
        return;
      } catch (err) {
        const why = (err as Error).message;
        if (Date.now() >= giveUpAt)
          return this.giveUp(group, messages, claimed, why);
        if (attempt === 1)
          this.logger.warn(
            `[${group.name}] queueing ${ids.length} ${group.type.name}(s) failed, trying again: ${why}`,
          );
        await sleep(Math.min(100 * 2 ** (attempt - 1), 5000));
      }
    }
  }

  queueOf(group: ListenerGroup): string {
    return group.name;
  }

  async check(): Promise<string[]> {
    const stopped = this.workers
      .filter((w) => !w.running)
      .map((w) => w.group.name);
    if (stopped.length > 0)
      throw new Error(`workers not running: ${stopped.join(', ')}`);
    const down = this.workers.find((w) => w.connection.status !== 'ready');
    if (down)
      throw new Error(
        `worker connection of ${down.group.name} is ${down.connection.status}`,
      );
    await Promise.all(this.workers.map((w) => w.connection.ping()));
    return this.workers.map((w) => w.group.name);
  }

  queues(): { group: string; queue: Queue }[] {
    return this.groups.map((g) => ({
      group: g.name,
      queue: this.enqueuer.queues.get(g.name),
    }));
  }

  /** Stops taking jobs and waits for the active ones (the queues' connection closes with the app). */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
  }

  /**
   * Redis refused the messages for ENQUEUE_RETRY_MS. Claimed ones are in the outbox: a relay
   * queues them. The others could not even be kept: lost, and counted so.
   */
  private giveUp(
    group: ListenerGroup,
    messages: Heard[],
    claimed: string[] | undefined,
    why: string,
  ): void {
    if (claimed) {
      this.logger.warn(
        `[${group.name}] ${claimed.length} ${group.type.name}(s) are claimed but not queued (${why}): the outbox relay queues them`,
      );
      return;
    }
    for (const { id, listeners } of messages)
      this.stats.lost(
        id,
        listeners,
        new Error(`could not be queued for group ${group.name}: ${why}`),
      );
  }
}
