import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Counter, Histogram, type Registry } from 'prom-client';
import { PodiumEnv } from '@podium/config';
import {
  METRICS_REGISTRY,
  registryOrPrivate,
  withLogContext,
} from '@podium/observability';
import {
  eventChannel,
  eventKey,
  globMatches,
  idempotencyKey,
  listenerStatsKey,
  orderKey,
  orderToHash,
  ORDERS_CHANNEL,
  type Order,
} from '@podium/orders';
import {
  GroupQueues,
  ORDER_JOB,
  orderJobOptions,
  readDurableSubscriptions,
  readListenerDirectory,
  type DurableSubscription,
  type ListenerEntry,
} from '@podium/queues';
import {
  createRedis,
  LuaScript,
  REDIS,
  redactSecrets,
  UnreplicatedError,
} from '@podium/redis';
import { durableGroupsMatching } from './durable-groups.js';
import { LUA_NOW_MS, OUTBOX } from './outbox/outbox.js';
import { PurchaseReplication } from './purchase-replication.js';

const ROUTING_CACHE_MS = 1000;
/** How long a purchase waits for its durable jobs and announcement before it leaves them to the outbox relay. */
export const ENQUEUE_DEADLINE_MS = 2000;

/** Where an order of one event goes. */
interface Route {
  /** Durable groups to enqueue it for, before it is announced. */
  durable: string[];
  /** Listeners that hear it: their `announced` counters count it. */
  listeners: string[];
}

/** How long an Idempotency-Key is remembered. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/*
 * Records an order in one atomic script (what a MULTI would do, plus the checks that must
 * see the same state): replay a known Idempotency-Key, check capacity, store the order hash,
 * count the tickets sold, count the order as announced for every known listener whose
 * subscription matches it (KEYS[5...]: their stats hashes, so that announced minus applied
 * shows what a listener missed), and, when ARGV[5] is '1', announce it on both channels.
 * Otherwise (durable subscriptions match: the caller enqueues, then announces) it adds the
 * order to the outbox, so that a relay finishes the job if this process dies before it does.
 * Orders announced here need no entry: recording and announcing are one atomic step.
 *
 * KEYS: event hash, order hash, idempotency hash (without a key: the order hash again, so
 *       that a Redis user limited to podium's key patterns may run it), outbox, then the
 *       listeners' stats hashes
 * ARGV[2], the request's fingerprint, is '' without an Idempotency-Key
 * ARGV: qty, fingerprint, idempotency ttl, order id, announce now, then the order hash fields
 * Reply: {'created'} | {'replay', order id, fingerprint, announced} | {'sold_out', tickets left}
 */
const RECORD = new LuaScript(`
local idempotent = ARGV[2] ~= ''
if idempotent then
  local known = redis.call('HMGET', KEYS[3], 'order_id', 'fingerprint', 'announced')
  if known[1] then return {'replay', known[1], known[2], known[3] or '0'} end
end
local qty = tonumber(ARGV[1])
local capacity = tonumber(redis.call('HGET', KEYS[1], 'capacity'))
local sold = tonumber(redis.call('HGET', KEYS[1], 'sold') or '0')
if capacity and sold + qty > capacity then return {'sold_out', tostring(capacity - sold)} end
redis.call('HSET', KEYS[2], unpack(ARGV, 6))
redis.call('HINCRBY', KEYS[1], 'sold', qty)
for i = 5, #KEYS do redis.call('HINCRBY', KEYS[i], 'announced', 1) end
if idempotent then
  redis.call('HSET', KEYS[3], 'order_id', ARGV[4], 'fingerprint', ARGV[2], 'announced', ARGV[5])
  redis.call('EXPIRE', KEYS[3], ARGV[3])
end
if ARGV[5] == '1' then
  redis.call('PUBLISH', '${ORDERS_CHANNEL}', ARGV[4])
  redis.call('PUBLISH', '${eventChannel('')}' .. redis.call('HGET', KEYS[2], 'event'), ARGV[4])
else
  ${LUA_NOW_MS}
  redis.call('ZADD', KEYS[4], now, ARGV[4])
end
return {'created'}
`);

export type RecordResult =
  | { outcome: 'created'; order: Order }
  | { outcome: 'replay'; orderId: string; sameRequest: boolean }
  | { outcome: 'sold_out'; ticketsLeft: number };

export interface Idempotency {
  key: string;
  /** A digest of the request: the same key with a different request is not a replay. */
  fingerprint: string;
}

/**
 * The publisher: records an order once and announces it. When durable subscriptions match
 * the order, it records without announcing (the order waits in the outbox), enqueues one
 * job for each matching durable group, and announces only then, so a durable listener gets
 * every order whose purchase succeeded, even one made while no listeners process runs.
 * Should this process die in between, an outbox relay finishes the job (OutboxRelay); a
 * retry with the same Idempotency-Key finishes it at once.
 */
@Injectable()
export class OrderPublisher implements OnApplicationShutdown {
  private readonly queues: GroupQueues;
  private readonly metrics: PublisherMetrics;
  private readonly logger = new Logger('Publisher');

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly env: PodiumEnv,
    @Optional() @Inject(METRICS_REGISTRY) registry?: Registry,
    @Optional()
    private readonly replication: PurchaseReplication = new PurchaseReplication(
      env,
    ),
  ) {
    this.queues = new GroupQueues(() =>
      createRedis(env.redisTarget, 'podium-publisher-queues', {
        autoPipelining: false,
      }),
    );
    this.metrics = new PublisherMetrics(registryOrPrivate(registry));
  }

  /** Every log line written while recording carries the order id (JSON logs). */
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
    const { durable, listeners } = await this.routeOf(order.event);
    // REDIS_WAIT_REPLICAS: a created or replayed order answers only once replicas have it.
    const recorded = this.replication.watch(this.redis, 'record');
    const [outcome, ...rest] = await RECORD.run<string[]>(
      this.redis,
      [
        eventKey(order.event),
        orderKey(order.orderId),
        idempotency ? idempotencyKey(idempotency.key) : orderKey(order.orderId),
        OUTBOX,
        ...listeners.map(listenerStatsKey),
      ],
      [
        order.qty,
        idempotency?.fingerprint ?? '',
        IDEMPOTENCY_TTL_SECONDS,
        order.orderId,
        durable.length === 0 ? '1' : '0',
        ...Object.entries(orderToHash(order)).flat(),
      ],
    );
    if (outcome === 'sold_out')
      return { outcome, ticketsLeft: Number(rest[0]) };
    if (outcome === 'replay') {
      const [orderId, fingerprint, announced] = rest;
      const sameRequest = fingerprint === idempotency?.fingerprint;
      if (sameRequest) await recorded.confirmed();
      if (sameRequest && announced !== '1')
        await this.finishAnnouncement(
          orderId,
          order.event,
          durable,
          idempotency,
        );
      return { outcome, orderId, sameRequest };
    }
    await recorded.confirmed();
    if (durable.length > 0)
      await this.finishAnnouncement(
        order.orderId,
        order.event,
        durable,
        idempotency,
      );
    return { outcome: 'created', order };
  }

  /**
   * The order is recorded, with its outbox entry: enqueue and announce it now, within
   * ENQUEUE_DEADLINE_MS. When Redis does not let that finish (down, out of memory, slow),
   * the purchase still stands: the outbox relay finishes it after the grace, so the request
   * answers 201 rather than an error that would make its client buy again.
   */
  private async finishAnnouncement(
    orderId: string,
    event: string,
    groups: string[],
    idempotency?: Idempotency,
  ): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`not done within ${ENQUEUE_DEADLINE_MS} ms`)),
        ENQUEUE_DEADLINE_MS,
      );
    });
    try {
      await Promise.race([
        this.enqueueAndAnnounce(orderId, event, groups, idempotency),
        deadline,
      ]);
    } catch (err) {
      if (err instanceof UnreplicatedError) throw err; // 503: the retry finishes it
      this.metrics.leftToRelay.inc();
      this.logger.warn(
        `order ${orderId} is recorded; enqueueing and announcing it is left to the outbox relay: ${redactSecrets((err as Error).message)}`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queues.close();
  }

  private async enqueueAndAnnounce(
    orderId: string,
    event: string,
    groups: string[],
    idempotency?: Idempotency,
  ): Promise<void> {
    const retry = {
      attempts: this.env.QUEUE_ATTEMPTS,
      backoffMs: this.env.QUEUE_BACKOFF_MS,
    };
    const queued = this.replication.watch(this.queues.redis, 'jobs');
    await Promise.all(
      groups.map((g) =>
        this.queues
          .get(g)
          .add(ORDER_JOB, { orderId }, orderJobOptions(orderId, retry)),
      ),
    );
    for (const group of groups) this.metrics.enqueued.inc({ group });
    await queued.confirmed();
    // The outbox entry goes with the announcement: from here on, nothing is left to re-drive.
    const announce = this.redis
      .multi()
      .publish(ORDERS_CHANNEL, orderId)
      .publish(eventChannel(event), orderId)
      .zrem(OUTBOX, orderId);
    if (idempotency)
      announce.hset(idempotencyKey(idempotency.key), 'announced', '1');
    await announce.exec();
  }

  /*
   * The durable subscriptions and the listener directory are read at most once a second
   * rather than on every order. That is safe: a subscription is registered by a listeners
   * process as it starts, and while it runs it enqueues every order it hears itself, so the
   * second in which the box office does not yet know the subscription loses nothing (and a
   * new listener's announced count starts up to a second late).
   */
  private routing?: {
    at: number;
    source: Promise<[DurableSubscription[], ListenerEntry[]]>;
    routes: Map<string, Route>;
  };

  /** Where an order of this event goes: the durable groups and the known listeners with a pattern that matches one of its two channels. */
  private async routeOf(event: string): Promise<Route> {
    const now = Date.now();
    if (!this.routing || now - this.routing.at > ROUTING_CACHE_MS) {
      const source = Promise.all([
        readDurableSubscriptions(this.redis),
        readListenerDirectory(this.redis),
      ]);
      source.catch(() => (this.routing = undefined));
      this.routing = { at: now, source, routes: new Map() };
    }
    const { source, routes } = this.routing;
    let route = routes.get(event);
    if (!route) {
      const [durable, directory] = await source;
      route = {
        durable: durableGroupsMatching(durable, event),
        listeners: directory
          .filter((l) =>
            [ORDERS_CHANNEL, eventChannel(event)].some((channel) =>
              globMatches(l.pattern, channel),
            ),
          )
          .map((l) => l.name),
      };
      routes.set(event, route);
    }
    return route;
  }
}

/** The box office's counters, in process memory (no round trip), read by Prometheus from /metrics. */
class PublisherMetrics {
  readonly published: Counter;
  readonly records: Counter<'outcome'>;
  readonly duration: Histogram<'outcome'>;
  readonly enqueued: Counter<'group'>;
  readonly leftToRelay: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.published = new Counter({
      name: 'podium_orders_published_total',
      help: 'Orders recorded and announced by this process (replays of an Idempotency-Key not counted).',
      registers,
    });
    this.records = new Counter({
      name: 'podium_order_records_total',
      help: 'Purchases this process tried to record, by outcome: created, replay (a known Idempotency-Key), sold_out.',
      labelNames: ['outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: 'podium_order_record_duration_seconds',
      help: 'Time to record an order: the script, and for durable subscriptions the enqueueing and the announcement.',
      labelNames: ['outcome'],
      buckets: [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
      ],
      registers,
    });
    this.enqueued = new Counter({
      name: 'podium_durable_jobs_enqueued_total',
      help: 'Jobs this process enqueued for durable subscriptions, by listener group.',
      labelNames: ['group'],
      registers,
    });
    this.leftToRelay = new Counter({
      name: 'podium_orders_left_to_relay_total',
      help: 'Orders recorded whose enqueueing and announcement Redis did not let finish in time: the outbox relay finishes them.',
      registers,
    });
  }
}
