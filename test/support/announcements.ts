import { randomUUID } from 'node:crypto';
import type { RedisClient } from '@podium/redis';
import { ORDERS_CHANNEL } from '@podium/orders';
import { waitFor, type PrivateRedis } from '@podium/testing';

const SENTINEL = 'test:announcements-settled';

/** Every announcement made on purchase_orders and purchase_orders:<event> while it listens: order id -> channels. */
export class Announcements {
  readonly heard = new Map<string, string[]>();
  private readonly sentinels = new Set<string>();

  private constructor(private readonly subscriber: RedisClient) {
    subscriber.on(
      'pmessage',
      (_pattern: string, channel: string, orderId: string) => {
        this.heard.set(orderId, [...(this.heard.get(orderId) ?? []), channel]);
      },
    );
    subscriber.on('message', (_channel: string, token: string) =>
      this.sentinels.add(token),
    );
  }

  static async listen(server: PrivateRedis): Promise<Announcements> {
    const subscriber = server.client();
    const announcements = new Announcements(subscriber);
    await subscriber.psubscribe(`${ORDERS_CHANNEL}*`);
    await subscriber.subscribe(SENTINEL);
    return announcements;
  }

  /** Resolves once everything published before the call was heard (RedisClient delivers one connection's messages in order). */
  async settle(redis: RedisClient): Promise<void> {
    const token = randomUUID();
    await redis.publish(SENTINEL, token);
    await waitFor(() => this.sentinels.has(token), {
      what: 'the announcements published so far to be heard',
    });
  }

  /** How many times the order was announced on purchase_orders. */
  count(orderId: string): number {
    return (this.heard.get(orderId) ?? []).filter((c) => c === ORDERS_CHANNEL)
      .length;
  }
}
