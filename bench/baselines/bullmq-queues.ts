/**
 * Baseline (c), the part its publisher and its workers share: the durable layer a NestJS user
 * would write by hand with BullMQ. One queue per listener; for each order the publisher adds
 * one job to the queue of every listener that acts on it (four per order: the lottery's only
 * for Opening Ceremony orders, the alerter's for the others, as the seed's subscriptions route
 * them), with the options a user would pick.
 */
import { Queue, type JobsOptions } from 'bullmq';
import type { Order } from '@podium/orders';
import { redisOptionsFromUrl } from '@podium/redis';
import type { PublishStep } from '../lib/driver.js';
import { listenerNames, listenersFor, type Variant } from '../lib/model.js';

/** BullMQ keys of baseline (c): bench:bullmq:<listener>:... */
export const BULLMQ_PREFIX = 'bench:bullmq';

export interface OrderJob {
  orderId: string;
}

/** What a user would pick: BullMQ's usual retry settings; the job id is the order id (they start with a letter and hold no ':'). */
export function messageJobOptions(orderId: string): JobsOptions {
  return {
    jobId: orderId,
    attempts: 3,
    backoff: { type: 'exponential', delay: 1000 },
    removeOnComplete: true,
  };
}

/** The publisher's step: after OrderPublisher.record, one Queue.add per listener that acts on the order. */
export class ListenerJobs implements PublishStep {
  private readonly queues: Map<string, Queue<OrderJob>>;

  constructor(
    redisUrl: string,
    private readonly variant: Variant,
  ) {
    // Connection options, not an instance: each Queue opens its own connection, as with @nestjs/bullmq's forRoot.
    const connection = redisOptionsFromUrl(redisUrl);
    this.queues = new Map(
      listenerNames(variant).map((name) => [
        name,
        new Queue<OrderJob>(name, { connection, prefix: BULLMQ_PREFIX }),
      ]),
    );
  }

  async afterRecord(order: Order): Promise<void> {
    await Promise.all(
      listenersFor(order.event, this.variant).map((name) =>
        this.queues
          .get(name)!
          .add(
            'order',
            { orderId: order.orderId },
            messageJobOptions(order.orderId),
          ),
      ),
    );
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
  }
}
