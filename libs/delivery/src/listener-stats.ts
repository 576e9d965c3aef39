import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { failedOrdersKey, listenerStatsKey } from '@podium/orders';
import { REDIS } from '@podium/redis';
import { DeliveryMetrics } from './delivery-metrics.js';
import type { RunningListener } from './listener-group.js';
import type { ListenerResult } from './order-work.js';

export type OutcomeObserver = (listener: string, orderId: string, outcome: ListenerResult['outcome'] | 'rejected') => void;

/**
 * Where the outcome of every order for every listener goes: the Prometheus counters of this
 * process, the cluster-wide counters in podium:stats:<listener> (applied and duplicates are
 * counted inside the effects script; rejected and failed here), the log, and any observer
 * (a bench or a test timing the applied effects).
 */
@Injectable()
export class ListenerStats {
  private readonly logger = new Logger('Listeners');
  private readonly observers: OutcomeObserver[] = [];

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly metrics: DeliveryMetrics,
  ) {}

  /** Calls `observer` with every outcome from now on (applied, duplicate, skipped, failed, rejected). */
  observe(observer: OutcomeObserver): void {
    this.observers.push(observer);
  }

  /**
   * Final outcomes of one order. A failure counts only when `final` (ephemeral: always; a
   * queue: after its last try); before that it is a retry.
   */
  settled(orderId: string, results: readonly ListenerResult[], startedAt: number, final = true): void {
    for (const { listener, outcome, error } of results) {
      if (outcome === 'failed') {
        if (!final) {
          this.metrics.retry(listener.name);
          this.logger.warn(`[${listener.name}] order ${orderId} failed, will retry: ${error?.message}`);
          continue;
        }
        this.logger.error(`[${listener.name}] order ${orderId} failed: ${error?.message}`);
        void this.count(listener.name, 'failed');
      }
      this.metrics.messageProcessed(listener.name, outcome, startedAt);
      this.notify(listener.name, orderId, outcome);
    }
  }

  /** A message that names no readable order, for the listeners that heard it. */
  rejected(orderId: string, listeners: readonly RunningListener[], err: Error): void {
    this.logger.warn(`[${listeners.map((l) => l.name).join(', ')}] rejected message: ${err.message}`);
    for (const listener of listeners) {
      this.metrics.messageProcessed(listener.name, 'rejected');
      void this.count(listener.name, 'rejected');
      this.notify(listener.name, orderId, 'rejected');
    }
  }

  /**
   * An order that could not even be kept for later (its enqueue failed for good): logged
   * as an error, counted in Prometheus and, when Redis takes it, in the listener's `lost`.
   */
  lost(orderId: string, listeners: readonly RunningListener[], err: Error): void {
    this.logger.error(`[${listeners.map((l) => l.name).join(', ')}] order ${orderId} LOST: ${err.message}`);
    for (const listener of listeners) {
      this.metrics.lost(listener.name);
      void this.count(listener.name, 'lost');
    }
  }

  /**
   * Keeps an ephemeral listener's failed order in its failed set, for inspection and retry
   * through the API. `counted` names the counter it was counted in, which a retry takes back.
   */
  async keepFailed(listener: string, orderId: string, err: Error, counted: 'failed' | 'rejected' = 'failed'): Promise<void> {
    const entry = JSON.stringify({ error: err.message, failedAt: new Date().toISOString(), counted });
    await this.redis.hset(failedOrdersKey(listener), orderId, entry).catch((e: Error) => {
      this.logger.error(`[${listener}] order ${orderId}: could not keep it in the failed set: ${e.message}`);
    });
  }

  private notify(listener: string, orderId: string, outcome: ListenerResult['outcome'] | 'rejected'): void {
    for (const observer of this.observers) observer(listener, orderId, outcome);
  }

  private async count(listener: string, field: 'rejected' | 'failed' | 'lost'): Promise<void> {
    await this.redis.hincrby(listenerStatsKey(listener), field, 1).catch(() => undefined);
  }
}
