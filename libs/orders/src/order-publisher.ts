import { Injectable, Module } from '@nestjs/common';
import {
  MessagePublisher,
  PublisherModule,
  standalonePublisher,
  type Idempotency,
  type Keyspace,
  type PodiumSettings,
} from '@podium/core';
import type { RedisClient } from '@podium/redis';
import type { Registry } from 'prom-client';
import { ORDER } from './order-type.js';
import type { Order } from './order.js';

export type RecordResult =
  | { outcome: 'created'; order: Order }
  | { outcome: 'replay'; orderId: string; sameRequest: boolean }
  | { outcome: 'sold_out'; ticketsLeft: number }
  | { outcome: 'no_event' };

/** A purchase as a client asks for it: the cost comes from the event's price. */
export interface PurchaseRequest {
  event: string;
  qty: number;
  who: string;
}

/**
 * The box office's publisher: podium's MessagePublisher for ORDER, its answers in the
 * Olympics' terms (sold out, no such event). Every guarantee is the publisher's.
 */
@Injectable()
export class OrderPublisher {
  constructor(private readonly publisher: MessagePublisher) {}

  /** A purchase: the order's cost is the event's price times qty, computed in the record script, in cents. */
  purchase(
    request: PurchaseRequest,
    idempotency?: Idempotency,
  ): Promise<RecordResult> {
    return this.record(
      { ...request, cost: '', ts: Math.floor(Date.now() / 1000) },
      idempotency,
    );
  }

  /**
   * Records an order as given (an empty cost is computed from the event's price; without
   * an id it gets one). Every log line written while recording carries the order id.
   */
  async record(
    order: Omit<Order, 'orderId'> & { orderId?: string },
    idempotency?: Idempotency,
  ): Promise<RecordResult> {
    const result = await this.publisher.publish(ORDER, order, idempotency);
    switch (result.outcome) {
      case 'created':
        return { outcome: 'created', order: result.message };
      case 'replay':
        return {
          outcome: 'replay',
          orderId: result.id,
          sameRequest: result.sameRequest,
        };
      default:
        return result.reply[0] === 'sold_out'
          ? { outcome: 'sold_out', ticketsLeft: Number(result.reply[1]) }
          : { outcome: 'no_event' };
    }
  }
}

/**
 * The order publisher outside a Nest app (the bench, a script): it opens its queue
 * connection itself, and close() closes it. Its metrics go to `registry` when given; BullMQ's
 * telemetry to its queues when given.
 */
export function standaloneOrderPublisher(
  redis: RedisClient,
  env: PodiumSettings,
  registry?: Registry,
  keys?: Keyspace,
  telemetry?: Parameters<typeof standalonePublisher>[4],
): { publisher: OrderPublisher; close: () => Promise<void> } {
  const made = standalonePublisher(redis, env, registry, keys, telemetry);
  return { publisher: new OrderPublisher(made.publisher), close: made.close };
}

/** OrderPublisher for an app whose PodiumModule publishes (the box office). */
@Module({
  imports: [PublisherModule],
  providers: [OrderPublisher],
  exports: [OrderPublisher],
})
export class OrderPublisherModule {}
