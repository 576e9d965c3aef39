import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { PODIUM_SETTINGS, type PodiumSettings } from '../config/index.js';
import {
  METRICS_REGISTRY,
  registryOrPrivate,
  withLogContext,
} from '../observability/index.js';
import {
  appliedKey,
  eventKey,
  idempotencyKey,
  listenerStatsKey,
  orderKey,
  type Keyspace,
  OUTBOX,
  queuedField,
  type Order,
} from '@podium/orders';
import {
  createOrderEnqueuer,
  OrderEnqueuer,
  RecordPlaces,
} from '../queues/index.js';
import {
  REDIS,
  redactSecrets,
  UnreplicatedError,
  type RedisClient,
} from '@podium/redis';
import { PurchaseReplication } from './purchase-replication.js';
import { OrderRoutes } from './record/order-routes.js';
import { PublisherMetrics } from './record/publisher-metrics.js';
import { RECORD } from './record/record-script.js';
import { TickBatch } from './record/tick-batch.js';

/** How long a purchase waits for its durable jobs before it leaves them to the outbox relay. */
export const ENQUEUE_DEADLINE_MS = 2000;
/** How long an Idempotency-Key is remembered. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

export type RecordResult =
  | { outcome: 'created'; order: Order }
  | { outcome: 'replay'; orderId: string; sameRequest: boolean }
  | { outcome: 'sold_out'; ticketsLeft: number }
  | { outcome: 'no_event' };

export interface Idempotency {
  key: string;
  /** A digest of the request: the same key with a different request is not a replay. */
  fingerprint: string;
}

/** A purchase as a client asks for it: the cost comes from the event's price. */
export interface PurchaseRequest {
  event: string;
  qty: number;
  who: string;
}

/**
 * The publisher: records an order once and announces it, in one script (RECORD), and for
 * the durable subscriptions that hear it queues its jobs before it answers, so a durable
 * listener gets every order whose purchase succeeded, even one made while no listeners
 * process runs. The scripts of concurrent purchases go to Redis in one write (the shared
 * connection auto-pipelines) and their jobs share one job per group (TickBatch). Should
 * this process die before the jobs exist, an outbox relay queues them (OutboxRelay); a
 * retry with the same Idempotency-Key queues them at once.
 */
@Injectable()
export class OrderPublisher {
  private readonly logger = new Logger('Publisher');
  private readonly metrics: PublisherMetrics;
  private readonly routes: OrderRoutes;
  private readonly batches = new Map<string, TickBatch<string, void>>();
  private readonly places: RecordPlaces;

  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(PODIUM_SETTINGS) private readonly env: PodiumSettings,
    private readonly enqueuer: OrderEnqueuer,
    @Optional() @Inject(METRICS_REGISTRY) registry?: Registry,
    @Optional()
    private readonly replication: PurchaseReplication = new PurchaseReplication(
      env,
    ),
  ) {
    this.metrics = new PublisherMetrics(registryOrPrivate(registry));
    this.routes = new OrderRoutes(redis);
    this.places = new RecordPlaces(redis, enqueuer.keys);
  }

  /** A purchase: the order's cost is the event's price times qty, computed in the script, in cents. */
  purchase(
    request: PurchaseRequest,
    idempotency?: Idempotency,
  ): Promise<RecordResult> {
    const order: Order = {
      orderId: this.enqueuer.keys.newOrderId(request.event),
      ...request,
      cost: '',
      ts: Math.floor(Date.now() / 1000),
    };
    return this.record(order, idempotency);
  }

  /**
   * Records an order as given (an empty cost is computed from the event's price). Every
   * log line written while recording carries the order id (JSON logs).
   */
  record(order: Order, idempotency?: Idempotency): Promise<RecordResult> {
    return withLogContext({ orderId: order.orderId }, async () => {
      const stop = this.metrics.duration.startTimer();
      const result = await this.recordNow(order, idempotency);
      stop({ outcome: result.outcome });
      this.metrics.records.inc({ outcome: result.outcome });
      if (result.outcome === 'created') this.metrics.published.inc();
      return result;
    });
  }

  private async recordNow(
    order: Order,
    idempotency?: Idempotency,
  ): Promise<RecordResult> {
    const keys = this.enqueuer.keys;
    if (!keys.fits(order.orderId, order.event))
      throw new Error(
        `order ${order.orderId} cannot be recorded for event "${order.event}" on this cluster: its hash would not be in ` +
          "the event's slot (make its id with Keyspace.newOrderId(event), as purchase() does)",
      );
    // Behind Sentinel, a failover under way: the primary being demoted would lose the write.
    this.replication.beforeWrite();
    const { durable, listeners } = await this.routes.of(order.event);
    // Everything the script writes lives in the event's slot (one place on one Redis).
    const place = keys.eventPlace(order.event);
    await this.places.register([place]);
    // REDIS_WAIT_REPLICAS: a created or replayed order answers only once replicas have it.
    const recorded = this.replication.watch(
      this.redis,
      'record',
      eventKey(order.event),
    );
    const [outcome, ...rest] = await RECORD.run<string[]>(
      this.redis,
      [
        eventKey(order.event),
        orderKey(order.orderId),
        idempotency
          ? keys.key(place, idempotencyKey(idempotency.key))
          : orderKey(order.orderId),
        keys.key(place, OUTBOX),
        keys.key(place, appliedKey(order.orderId)),
        ...listeners.map((l) => keys.key(place, listenerStatsKey(l))),
      ],
      [
        order.qty,
        idempotency?.fingerprint ?? '',
        IDEMPOTENCY_TTL_SECONDS,
        order.orderId,
        order.cost,
        order.who,
        order.event,
        order.ts,
        this.env.APPLIED_MARKER_TTL_SECONDS,
        ...durable.flatMap((group) => [group, queuedField(group)]),
      ],
    );
    switch (outcome) {
      case 'created':
        await recorded.confirmed();
        await this.queue(order.orderId, durable);
        return { outcome, order: { ...order, cost: rest[0] } };
      case 'replay': {
        const [orderId, fingerprint, ...unqueued] = rest;
        const sameRequest = fingerprint === idempotency?.fingerprint;
        if (sameRequest) {
          await recorded.confirmed();
          await this.queue(orderId, unqueued);
        }
        return { outcome, orderId, sameRequest };
      }
      case 'sold_out':
        return { outcome, ticketsLeft: Number(rest[0]) };
      default:
        return { outcome: 'no_event' };
    }
  }

  /**
   * Queues the recorded order for its durable groups, within ENQUEUE_DEADLINE_MS. When
   * Redis does not let that finish (down, out of memory, slow), the purchase still stands:
   * the outbox relay queues it after the grace, so the request answers 201 rather than an
   * error that would make its client buy again.
   */
  private async queue(
    orderId: string,
    groups: readonly string[],
  ): Promise<void> {
    if (groups.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`not done within ${ENQUEUE_DEADLINE_MS} ms`)),
        ENQUEUE_DEADLINE_MS,
      );
    });
    try {
      await Promise.race([
        Promise.all(groups.map((group) => this.batchOf(group).add(orderId))),
        deadline,
      ]);
      for (const group of groups) this.metrics.enqueued.inc({ group });
    } catch (err) {
      if (err instanceof UnreplicatedError) throw err; // 503: the retry finishes it
      this.metrics.leftToRelay.inc();
      this.logger.warn(
        `order ${orderId} is recorded; queueing it for ${groups.join(', ')} is left to the outbox relay: ${redactSecrets((err as Error).message)}`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** The orders of one tick for a group: one job. */
  private batchOf(group: string): TickBatch<string, void> {
    let batch = this.batches.get(group);
    if (!batch) {
      batch = new TickBatch(async (orderIds) => {
        this.metrics.jobOrders.observe({ group }, orderIds.length);
        // REDIS_WAIT_REPLICAS: the purchases answer only once replicas have their job too.
        const queued = this.replication.watch(
          this.enqueuer.queues.redis,
          'jobs',
          this.enqueuer.queues.get(group).toKey('meta'),
        );
        await this.enqueuer.enqueue(group, orderIds);
        await queued.confirmed();
      });
      this.batches.set(group, batch);
    }
    return batch;
  }
}

/**
 * The publisher outside a Nest app (the bench, a script): it opens its queue connection
 * itself, and close() closes it. Its metrics go to `registry` when given.
 */
export function standalonePublisher(
  redis: RedisClient,
  env: PodiumSettings,
  registry?: Registry,
  keys?: Keyspace,
): { publisher: OrderPublisher; close: () => Promise<void> } {
  const enqueuer = createOrderEnqueuer(redis, env, keys);
  return {
    publisher: new OrderPublisher(
      redis,
      env,
      enqueuer,
      registry,
      new PurchaseReplication(env),
    ),
    close: () => enqueuer.queues.close(),
  };
}
