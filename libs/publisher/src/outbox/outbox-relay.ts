import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { PodiumEnv } from '@podium/config';
import { METRICS_REGISTRY } from '@podium/observability';
import { eventChannel, orderKey, ORDERS_CHANNEL } from '@podium/orders';
import {
  GroupQueues,
  ORDER_JOB,
  orderJobOptions,
  readDurableSubscriptions,
  type DurableSubscription,
} from '@podium/queues';
import { createRedis, LuaScript, REDIS } from '@podium/redis';
import { durableGroupsMatching } from '../durable-groups.js';
import { OutboxMetrics } from './outbox-metrics.js';
import {
  LUA_NOW_MS,
  OUTBOX,
  OUTBOX_LEASE,
  readOutbox,
  type OutboxState,
} from './outbox.js';

/**
 * How long a relay's lease on the outbox lasts; renewed after every batch. A relay that
 * dies while holding it delays the others by at most this much.
 */
export const OUTBOX_LEASE_MS = 5000;
/** Orders re-driven per batch (one lease renewal each). */
const BATCH = 100;
/** A failing relay or an old outbox is logged at most this often. */
const WARN_EVERY_MS = 60_000;

// The ids of the entries recorded more than ARGV[1] ms ago (on Redis's clock), at most ARGV[2].
const DUE = new LuaScript(`
${LUA_NOW_MS}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]), 'LIMIT', 0, tonumber(ARGV[2]))
`);
// Renews or releases the lease only if this relay still holds it.
const RENEW = new LuaScript(
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`,
);
const RELEASE = new LuaScript(
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
);

/** Injection token: a function, asked at start-up, that says whether this process runs the relay (default: it does). */
export const OUTBOX_RELAY_ENABLED = Symbol('OUTBOX_RELAY_ENABLED');
export type OutboxRelayEnabled = () => boolean;

/**
 * Finishes what a dead box office left undone. An order recorded for durable subscriptions
 * is in the outbox until its jobs are added and it is announced; an entry older than
 * OUTBOX_GRACE_MS means the process that recorded it died (or is stuck) in between. The
 * relay then re-reads the order, adds a job for every durable group that matches it now
 * (idempotent: job id = order id), announces it on both channels and removes the entry,
 * announcement and removal in one MULTI.
 *
 * Every box office and every listeners process with durable listeners runs one, every
 * OUTBOX_RELAY_INTERVAL_MS. They share the work through a lease (`podium:outbox:lease`,
 * SET NX PX, renewed after every batch): one relay works at a time, any of them takes over
 * when it dies. Should two ever overlap (a pass outliving its lease, a request slower than
 * the grace), an order is announced twice: queue adds are idempotent and every listener's
 * effects are guarded by its applied marker, so it is still applied once.
 */
@Injectable()
export class OutboxRelay
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger('OutboxRelay');
  /** Names this relay in the lease. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly queues: GroupQueues;
  private metrics?: OutboxMetrics;
  private timer?: NodeJS.Timeout;
  private pass?: Promise<void>;
  private stopped = false;
  private lastWarning = { old: 0, failure: 0 };

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly env: PodiumEnv,
    @Optional() @Inject(METRICS_REGISTRY) private readonly registry?: Registry,
    @Optional()
    @Inject(OUTBOX_RELAY_ENABLED)
    private readonly enabled?: OutboxRelayEnabled,
  ) {
    // Its own connection for BullMQ, opened on the first re-drive only.
    this.queues = new GroupQueues(() =>
      createRedis(env.redisTarget, 'podium-outbox-relay', {
        autoPipelining: false,
      }),
    );
  }

  onApplicationBootstrap(): void {
    if (this.enabled?.() ?? true) this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** Whether this relay looks at the outbox (started and not closed). */
  get running(): boolean {
    return this.timer !== undefined && !this.stopped;
  }

  /** Looks at the outbox every OUTBOX_RELAY_INTERVAL_MS from now on. */
  start(): void {
    if (this.timer || this.stopped) return;
    if (this.registry)
      this.metrics = new OutboxMetrics(this.registry, this.redis);
    this.schedule();
    this.logger.log(
      `Outbox relay on: re-drives orders still unannounced ${this.env.OUTBOX_GRACE_MS} ms after they were recorded`,
    );
  }

  /** Stops looking, waits for the pass under way and gives the lease back. */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.pass;
    await this.queues.close();
  }

  /**
   * One look at the outbox: warns when its oldest entry is older than
   * OUTBOX_WARN_AGE_SECONDS, and re-drives the entries older than the grace when it gets
   * the lease. Resolves with the number of orders it re-drove.
   */
  async runOnce(): Promise<number> {
    const state = await readOutbox(this.redis);
    this.warnIfOld(state);
    if (state.oldestAgeMs < this.env.OUTBOX_GRACE_MS) return 0;
    const leased = await this.redis.set(
      OUTBOX_LEASE,
      this.owner,
      'PX',
      OUTBOX_LEASE_MS,
      'NX',
    );
    if (leased !== 'OK') return 0; // another relay is at work
    let redriven = 0;
    try {
      for (;;) {
        const due = await DUE.run<string[]>(
          this.redis,
          [OUTBOX],
          [this.env.OUTBOX_GRACE_MS, BATCH],
        );
        if (due.length === 0) break;
        const subscriptions = await readDurableSubscriptions(this.redis);
        const results = await Promise.allSettled(
          due.map((orderId) => this.redrive(orderId, subscriptions)),
        );
        redriven += results.filter(
          (r) => r.status === 'fulfilled' && r.value,
        ).length;
        const failed = results.find((r) => r.status === 'rejected');
        // A failing entry stays for the next pass; this one stops rather than fetch it again.
        if (failed) throw failed.reason;
        if (due.length < BATCH || this.stopped) break;
        if (
          (await RENEW.run<number>(
            this.redis,
            [OUTBOX_LEASE],
            [this.owner, OUTBOX_LEASE_MS],
          )) !== 1
        )
          break;
      }
    } finally {
      await RELEASE.run(this.redis, [OUTBOX_LEASE], [this.owner]).catch(
        () => undefined,
      );
      if (redriven > 0) {
        this.metrics?.redriven.inc(redriven);
        this.logger.warn(
          `Re-drove ${redriven} order(s) recorded over ${this.env.OUTBOX_GRACE_MS} ms ago and never announced ` +
            '(a box office stopped between recording and announcing them): queued for the durable listeners and announced',
        );
      }
    }
    return redriven;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.pass = this.runOnce()
        .then(
          () => undefined,
          (err: Error) =>
            this.throttled(
              'failure',
              `Outbox relay: ${err.message}; the entries stay for the next pass`,
            ),
        )
        .finally(() => {
          this.pass = undefined;
          if (!this.stopped) this.schedule();
        });
    }, this.env.OUTBOX_RELAY_INTERVAL_MS);
    this.timer.unref();
  }

  /** Queues the order for every durable group that matches it and announces it; false when there is no such order any more. */
  private async redrive(
    orderId: string,
    subscriptions: DurableSubscription[],
  ): Promise<boolean> {
    const event = await this.redis.hget(orderKey(orderId), 'event');
    if (event === null) {
      await this.redis.zrem(OUTBOX, orderId);
      this.logger.warn(
        `Outbox: order ${orderId} has no hash any more; its entry is dropped`,
      );
      return false;
    }
    const retry = {
      attempts: this.env.QUEUE_ATTEMPTS,
      backoffMs: this.env.QUEUE_BACKOFF_MS,
    };
    const groups = durableGroupsMatching(subscriptions, event);
    await Promise.all(
      groups.map((g) =>
        this.queues
          .get(g)
          .add(ORDER_JOB, { orderId }, orderJobOptions(orderId, retry)),
      ),
    );
    await this.redis
      .multi()
      .publish(ORDERS_CHANNEL, orderId)
      .publish(eventChannel(event), orderId)
      .zrem(OUTBOX, orderId)
      .exec();
    return true;
  }

  private warnIfOld({ entries, oldestAgeMs }: OutboxState): void {
    if (oldestAgeMs <= this.env.OUTBOX_WARN_AGE_SECONDS * 1000) return;
    this.throttled(
      'old',
      `Outbox: ${entries} order(s) recorded but not announced, the oldest ${Math.round(oldestAgeMs / 1000)} s ago ` +
        `(over OUTBOX_WARN_AGE_SECONDS=${this.env.OUTBOX_WARN_AGE_SECONDS}); durable listeners wait for them. See docs/operations.md#outbox`,
    );
  }

  private throttled(kind: 'old' | 'failure', message: string): void {
    const now = Date.now();
    if (now - this.lastWarning[kind] < WARN_EVERY_MS) return;
    this.lastWarning[kind] = now;
    this.logger.warn(message);
  }
}
