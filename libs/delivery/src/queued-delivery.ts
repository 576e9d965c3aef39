import { hostname } from 'node:os';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { ListenerQueues, ORDER_JOB, orderJobOptions, QUEUE_PREFIX, type OrderJobData } from '@podium/queues';
import { createRedis } from '@podium/redis';
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
  /** Names this app's workers in BullMQ's job.processedBy. */
  readonly workerName = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 6)}`;

  constructor(
    private readonly runner: ListenerRunner,
    @Inject(DELIVERY_OPTIONS) private readonly options: DeliveryOptions,
  ) {
    this.queues = new ListenerQueues(() => createRedis(options.redisUrl, 'podium-queues', { autoPipelining: false }));
  }

  /** On an announcement: check the order exists, then enqueue it for the listener. */
  async onMessage(listener: ListenerDefinition, payload: unknown): Promise<void> {
    try {
      const order = await this.runner.load(payload);
      await this.queues.get(listener.name).add(ORDER_JOB, { orderId: order.orderId }, orderJobOptions(order.orderId, this.retry));
    } catch (err) {
      if (err instanceof RejectedMessageError) return this.runner.countRejected(listener, err);
      this.logger.error(`[${listener.name}] could not enqueue order ${String(payload)}: ${(err as Error).message}`);
    }
  }

  startWorker(listener: ListenerDefinition): void {
    const { concurrency, lockMs, stalledCheckMs } = this.options.queue;
    const worker = new Worker<OrderJobData, Outcome>(listener.name, (job) => this.process(listener, job), {
      connection: this.queues.redis,
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
      if (final) {
        this.logger.error(`[${listener.name}] order ${job.data.orderId} failed after ${job.attemptsMade} tries: ${err.message}`);
        if (!(err instanceof UnrecoverableError)) void this.runner.countFailed(listener);
      } else {
        this.logger.warn(`[${listener.name}] order ${job.data.orderId} failed (try ${job.attemptsMade}), retrying: ${err.message}`);
      }
    });
    worker.on('error', (err) => this.logger.warn(`[${listener.name}] worker: ${err.message}`));
    this.workers.push(worker);
  }

  /** Stops taking jobs, waits for the active ones, then closes the queues. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.close()));
    await this.queues.close();
  }

  private async process(listener: ListenerDefinition, job: Job<OrderJobData>): Promise<Outcome> {
    try {
      return await this.runner.process(listener, job.data.orderId);
    } catch (err) {
      if (!(err instanceof RejectedMessageError)) throw err; // retried with backoff
      await this.runner.countRejected(listener, err);
      throw new UnrecoverableError(err.message);
    }
  }

  private get retry() {
    return { attempts: this.options.queue.attempts, backoffMs: this.options.queue.backoffMs };
  }
}
