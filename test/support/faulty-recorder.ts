import { validatePodiumEnv, outboxEntry, OUTBOX } from '@podium/core';
import {
  type OrderPublisher,
  type Order,
  newOrder,
  standaloneOrderPublisher,
} from '@podium/orders';
import type { PrivateRedis } from '@podium/testing';
import {
  createRedis,
  redisTargetFromUrl,
  type RedisClient,
} from '@podium/redis';

/**
 * A fault between recording an order and queueing it, without touching the code: a
 * publisher whose Redis user may run the record script (orders, events, idempotency keys,
 * order markers, the outbox) but may not write the queues, so the job add after the script
 * fails with NOPERM. What it leaves is what a box office killed at that point leaves: the
 * order recorded, counted in `sold` and announced, in the outbox, with no job.
 */
export class FaultyRecorder {
  private constructor(
    private readonly publisher: OrderPublisher,
    private readonly redis: RedisClient,
    private readonly close: () => Promise<unknown>,
  ) {}

  static async start(server: PrivateRedis): Promise<FaultyRecorder> {
    await server
      .client()
      .call(
        'ACL',
        'SETUSER',
        'recorder',
        'on',
        '>recorder-password',
        '%R~*',
        '~events:*',
        '~purchase_order_details:*',
        '~podium:outbox',
        '~podium:applied:*',
        '~podium:idempotency:*',
        '~podium:stats:*',
        '&*',
        '+@all',
      );
    const url = `redis://recorder:recorder-password@127.0.0.1:${server.port}`;
    const redis = createRedis(redisTargetFromUrl(url), 'faulty-recorder');
    const { publisher, close } = standaloneOrderPublisher(
      redis,
      validatePodiumEnv({ REDIS_URL: url }),
    );
    return new FaultyRecorder(publisher, redis, async () => {
      await close();
      await redis.quit();
    });
  }

  /**
   * Records an order; resolves with it once the step after the script has failed. The
   * purchase stands (created: the publisher leaves the rest to the outbox relay), and its
   * job for `group` waits in the outbox.
   */
  async record(
    fields: Pick<Order, 'event'> & Partial<Order>,
    group = 'durable',
  ): Promise<Order> {
    const order = await this.create(fields);
    if (
      (await this.redis.zscore(OUTBOX, outboxEntry(group, order.orderId))) ===
      null
    )
      throw new Error(`expected order ${order.orderId} to wait in the outbox`);
    return order;
  }

  /** Records an order no durable subscription matches: the script announces it, nothing else is needed. */
  recordAnnounced(
    fields: Pick<Order, 'event'> & Partial<Order>,
  ): Promise<Order> {
    return this.create(fields);
  }

  /** Records an order through the publisher (with an Idempotency-Key, as the box office does). */
  private async create(
    fields: Pick<Order, 'event'> & Partial<Order>,
  ): Promise<Order> {
    const order = newOrder({ who: 'faulty', cost: '20', ...fields });
    const result = await this.publisher.record(order, {
      key: `fault-${order.orderId}`,
      fingerprint: 'fault',
    });
    if (result.outcome !== 'created')
      throw new Error(
        `expected the order to be created, got ${result.outcome}`,
      );
    return order;
  }

  async stop(): Promise<void> {
    await this.close();
  }
}
