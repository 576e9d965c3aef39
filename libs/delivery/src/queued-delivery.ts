import { hostname } from 'node:os';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { withLogContext } from '@podium/observability';
import { ListenerQueues, ORDER_JOB, orderJobOptions, QUEUE_PREFIX, type OrderJobData } from '@podium/queues';
import { createRedis } from '@podium/redis';
import { DeliveryMetrics } from './delivery-metrics.js';
import { DELIVERY_OPTIONS, type DeliveryOptions } from './delivery.options.js';
import { ListenerRunner, RejectedMessageError, type ListenerDefinition, type Outcome } from './listener-runner.js';

/**
 * Queued and durable listeners: the pub/sub message only enqueues a BullMQ job (job id =
 * order id, so every process enqueues one job per order); workers run the handler with
 * retries and backoff. The backlog waits in Redis, not in this process's memory.
 */
@Injectable()
export class QueuedDelivery {
  private readonly logger = new Logger('Listeners');
  private readonly queues: ListenerQueues;
  private readonly workers: Worker<OrderJobData, Outcome>[] = [];
  private readonly workerConnections: Redis[] = [];
  /** Names this app's workers in BullMQ's job.processedBy. */
  readonly workerName = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 6)}`;

  constructor(
    private readonly runner: ListenerRunner,
    @Inject(DELIVERY_OPTIONS) private readonly options: DeliveryOptions,
    @Optional() private readonly metrics?: DeliveryMetrics,
  ) {
    this.queues = new ListenerQueues(() => createRedis(options.redisUrl, 'podium-queues', { autoPipelining: false }));
  }

  /** On an announcement: check the order exists, then enqueue it for the listener. */
  async onMessage(listener: ListenerDefinition, payload: unknown): Promise<void> {
    try {
      const order = await this.runner.load(payload);
      await this.queues.get(listener.name).add(ORDER_JOB, { orderId: order.orderId }, orderJobOptions(order.orderId, this.retry));
    } catch (err) {
      if (err instanceof RejectedMessageError) {
        this.metrics?.messageProcessed(listener.name, 'rejected');
        return this.runner.countRejected(listener, err);
      }
      this.metrics?.messageProcessed(listener.name, 'failed');
      this.logger.error(`[${listener.name}] could not enqueue order ${String(payload)}: ${(err as Error).message}`);
    }
  }

  startWorker(listener: ListenerDefinition): void {
    const { concurrency, lockMs, stalledCheckMs } = this.options.queue;
    // Each worker has a connection of its own: sharing the enqueueing connection put lock
    // renewals behind bursts of adds, and jobs ran twice after their locks lapsed.
    const connection = createRedis(this.options.redisUrl, `podium-worker-${listener.name}`, { autoPipelining: false });
    this.workerConnections.push(connection);
    const worker = new Worker<OrderJobData, Outcome>(listener.name, (job) => this.process(listener, job), {
      connection,
      prefix: QUEUE_PREFIX,
      name: this.workerName,
      concurrency,
      lockDuration: lockMs,
      stalledInterval: stalledCheckMs,
      // A crash leaves jobs stalled; effects are idempotent, so running them again is safe.
      maxStalledCount: 10,
    });
    worker.on('failed', (job, err) => {
      if (!job) return;
      const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
      withLogContext({ listener: listener.name, orderId: job.data.orderId }, () => {
        if (final) {
          this.logger.error(`[${listener.name}] order ${job.data.orderId} failed after ${job.attemptsMade} tries: ${err.message}`);
          if (!(err instanceof UnrecoverableError)) {
            this.metrics?.messageProcessed(listener.name, 'failed');
            void this.runner.countFailed(listener);
          }
        } else {
          this.metrics?.retry(listener.name);
          this.logger.warn(`[${listener.name}] order ${job.data.orderId} failed (try ${job.attemptsMade}), retrying: ${err.message}`);
        }
      });
    });
    worker.on('error', (err) => this.logger.warn(`[${listener.name}] worker: ${err.message}`));
    this.workers.push(worker);
  }

  /** The listeners this process runs workers for, with their queues (for metrics). */
  workerQueues(): { listener: string; queue: ReturnType<ListenerQueues['get']> }[] {
    return this.workers.map((w) => ({ listener: w.name, queue: this.queues.get(w.name) }));
  }

  /** The queues' connection (for metrics reads); undefined in a process without workers. */
  get connection(): Redis | undefined {
    return this.workers.length > 0 ? this.queues.redis : undefined;
  }

  /** Throws unless every worker runs and every worker's connection is up and answers a PING. */
  async checkWorkers(): Promise<{ workers: number }> {
    if (this.workers.length === 0) return { workers: 0 };
    const stopped = this.workers.filter((w) => !w.isRunning()).map((w) => w.name);
    if (stopped.length > 0) throw new Error(`workers not running: ${stopped.join(', ')}`);
    const down = this.workerConnections.filter((c) => c.status !== 'ready');
    if (down.length > 0) throw new Error(`worker connection is ${down[0].status}`);
    await Promise.all(this.workerConnections.map((c) => c.ping()));
    return { workers: this.workers.length };
  }

  /** Stops taking jobs, waits for the active ones, then closes the queues. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    await Promise.all(this.workerConnections.map((c) => c.quit().catch(() => undefined)));
    await this.queues.close();
  }

  private process(listener: ListenerDefinition, job: Job<OrderJobData>): Promise<Outcome> {
    return withLogContext({ listener: listener.name, orderId: job.data.orderId }, async () => {
      const startedAt = performance.now();
      try {
        const outcome = await this.runner.process(listener, job.data.orderId);
        this.metrics?.messageProcessed(listener.name, outcome, startedAt);
        return outcome;
      } catch (err) {
        if (!(err instanceof RejectedMessageError)) throw err; // retried with backoff; counted on 'failed'
        this.metrics?.messageProcessed(listener.name, 'rejected', startedAt);
        await this.runner.countRejected(listener, err);
        throw new UnrecoverableError(err.message);
      }
    });
  }

  private get retry() {
    return { attempts: this.options.queue.attempts, backoffMs: this.options.queue.backoffMs };
  }
}
