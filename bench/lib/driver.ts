import { standaloneOrderPublisher } from '@podium/orders';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { validatePodiumEnv, Keyspace } from '@podium/core';
import type { Telemetry } from 'bullmq';
import type { Order } from '@podium/orders';
import {
  createRedis,
  redisTargetFromUrl,
  type RedisClient,
} from '@podium/redis';
import { ListenerJobs } from '../baselines/bullmq-queues.js';
import { OrdersStream } from '../baselines/orders-stream.js';
import { parseHistograms, type HistogramSnapshot } from './metrics.js';
import type { SystemKind, Variant } from './model.js';

export const now = (): number => performance.timeOrigin + performance.now();

export interface StreamResult {
  startMs: number;
  endMs: number;
  published: number;
  /** Orders per second actually offered. */
  achievedRate: number;
  /** Worst delay of a publish behind its schedule (paced streams). */
  maxLagMs: number;
}

/** What the bench's publisher does for a system after OrderPublisher.record, as part of publishing an order. */
export interface PublishStep {
  afterRecord(order: Order): Promise<void>;
  close(): Promise<void>;
}

/**
 * Each system's publish step. podium and baselines (a) and (b) are fed by record() alone (it
 * announces the order; podium durable's subscriptions are enqueued inside it). Baselines (c)
 * and (d) are durable layers of their own: their publisher enqueues, (c) a BullMQ job per
 * listener, (d) one stream entry.
 */
const PUBLISH_STEPS: Record<
  SystemKind,
  | ((c: {
      redis: RedisClient;
      redisUrl: string;
      variant: Variant;
    }) => PublishStep)
  | undefined
> = {
  podium: undefined,
  seed: undefined,
  nest: undefined,
  bullmq: ({ redisUrl, variant }) => new ListenerJobs(redisUrl, variant),
  streams: ({ redis }) => new OrdersStream(redis),
};

/**
 * "The purchase is recorded": podium's OrderPublisher.record, the box office's own call,
 * used for every system (podium and the baselines) so all of them get the same orders the
 * same way, followed by the system's own publish step, if any. t0 of an order is taken just
 * before record() is called, so that step is part of the latency.
 */
export class Driver {
  readonly t0 = new Map<string, number>();
  /** When the publish (record() and the system's step) resolved, per order. */
  readonly recorded = new Map<string, number>();
  errors = 0;
  lastError?: string;
  published = 0;

  private constructor(
    private readonly redis: RedisClient,
    private readonly publishing: ReturnType<typeof standaloneOrderPublisher>,
    private readonly step: PublishStep | undefined,
    /** The publisher's own metrics (podium_publisher_job_orders: orders per job it queued). */
    private readonly registry: Registry,
  ) {}

  /**
   * `podiumEnv`: more of podium's variables (the cluster scenario's REDIS_CLUSTER_NODES:
   * then the publisher runs on ioredis' Cluster client and the cluster's key layout).
   * `telemetry`: BullMQ's, for the publisher's queues (a traced run).
   */
  static create(
    redisUrl: string,
    kind: SystemKind,
    variant: Variant,
    podiumEnv: Record<string, string> = {},
    telemetry?: Telemetry,
  ): Driver {
    const env = validatePodiumEnv({ REDIS_URL: redisUrl, ...podiumEnv });
    const cluster = env.redisTarget.kind === 'cluster';
    const redis = createRedis(
      cluster ? env.redisTarget : redisTargetFromUrl(redisUrl),
      'bench-publisher',
    );
    const step = PUBLISH_STEPS[kind]?.({ redis, redisUrl, variant });
    const registry = new Registry();
    return new Driver(
      redis,
      standaloneOrderPublisher(
        redis,
        env,
        registry,
        cluster ? Keyspace.cluster : undefined,
        telemetry,
      ),
      step,
      registry,
    );
  }

  /** The publisher's job sizes so far. */
  async histograms(): Promise<HistogramSnapshot> {
    return parseHistograms(await this.registry.metrics());
  }

  async close(): Promise<void> {
    await this.step?.close();
    await this.publishing.close();
    await this.redis.quit().catch(() => undefined);
  }

  private async record(order: Order): Promise<void> {
    this.t0.set(order.orderId, now());
    this.published++;
    try {
      const result = await this.publishing.publisher.record(order);
      if (result.outcome !== 'created') {
        this.errors++;
        this.lastError = `${order.orderId}: ${result.outcome}`;
        return;
      }
      await this.step?.afterRecord(order);
      this.recorded.set(order.orderId, now());
    } catch (err) {
      this.errors++;
      this.lastError = (err as Error).message;
    }
  }

  /** How long publishing took (ms: record() and the system's step), for these orders. */
  recordDurations(orders: readonly Order[]): number[] {
    const out: number[] = [];
    for (const o of orders) {
      const start = this.t0.get(o.orderId);
      const end = this.recorded.get(o.orderId);
      if (start !== undefined && end !== undefined) out.push(end - start);
    }
    return out;
  }

  /** As fast as the publisher allows: `concurrency` publishers, each waiting for its last. */
  async saturate(
    orders: readonly Order[],
    concurrency: number,
  ): Promise<StreamResult> {
    const startMs = now();
    let next = 0;
    const publisher = async () => {
      while (next < orders.length) await this.record(orders[next++]);
    };
    await Promise.all(Array.from({ length: concurrency }, publisher));
    const endMs = now();
    return {
      startMs,
      endMs,
      published: orders.length,
      achievedRate: orders.length / ((endMs - startMs) / 1000),
      maxLagMs: 0,
    };
  }

  /**
   * At a steady offered rate: each order is published at its scheduled time (checked every
   * millisecond or so), without waiting for earlier publishes to finish.
   */
  async paced(
    orders: readonly Order[],
    rate: number,
    onTick?: (published: number) => void,
  ): Promise<StreamResult> {
    const startMs = now();
    const inFlight = new Set<Promise<void>>();
    let maxLagMs = 0;
    let i = 0;
    while (i < orders.length) {
      const t = now();
      const due = Math.min(
        orders.length,
        Math.floor(((t - startMs) * rate) / 1000) + 1,
      );
      if (due > i)
        maxLagMs = Math.max(maxLagMs, t - (startMs + (i * 1000) / rate));
      while (i < due) {
        const p = this.record(orders[i++]);
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
      onTick?.(i);
      if (i < orders.length)
        await sleep(Math.max(0, startMs + (i * 1000) / rate - now() - 0.2));
    }
    const lastScheduled = now();
    await Promise.all(inFlight);
    return {
      startMs,
      endMs: lastScheduled,
      published: orders.length,
      achievedRate:
        orders.length / ((lastScheduled - startMs) / 1000 + 1 / rate),
      maxLagMs,
    };
  }
}
