import { Inject, Injectable, Optional } from '@nestjs/common';
import { Counter, Histogram, type Registry } from 'prom-client';
import { METRICS_REGISTRY, registryOrPrivate } from '../observability/index.js';
import type { DeliveryMode } from '../config/index.js';

/** What became of one message for one listener. */
export type MessageOutcome =
  'applied' | 'duplicate' | 'skipped' | 'rejected' | 'failed';

/**
 * The listeners' counters, kept in this process's memory (an increment costs no round
 * trip) and read by Prometheus from /metrics. podium:stats:<listener> in Redis keeps the
 * cluster-wide totals; these are per process, as Prometheus expects.
 */
@Injectable()
export class DeliveryMetrics {
  private readonly received: Counter<'listener' | 'mode'>;
  private readonly processed: Counter<'listener' | 'outcome'>;
  private readonly retried: Counter<'listener'>;
  private readonly lostMessages: Counter<'listener'>;
  private readonly duration: Histogram<'listener' | 'outcome'>;
  private readonly batches: Histogram<'group' | 'source'>;

  constructor(@Optional() @Inject(METRICS_REGISTRY) registry?: Registry) {
    const registers = [registryOrPrivate(registry)];
    this.received = new Counter({
      name: 'podium_listener_messages_received_total',
      help: 'Announcements heard by a listener (pub/sub messages), whatever became of them.',
      labelNames: ['listener', 'mode'],
      registers,
    });
    this.processed = new Counter({
      name: 'podium_listener_messages_processed_total',
      help:
        'Messages a listener finished with, by outcome: applied, duplicate (already applied, skipped), ' +
        'skipped (not for this listener), rejected (not an order), failed (error; queued: after the last try).',
      labelNames: ['listener', 'outcome'],
      registers,
    });
    this.retried = new Counter({
      name: 'podium_listener_retries_total',
      help: 'Failed tries of queued and durable listeners that will be tried again.',
      labelNames: ['listener'],
      registers,
    });
    this.lostMessages = new Counter({
      name: 'podium_listener_orders_lost_total',
      help: 'Orders this process heard but could neither apply nor keep for later (a queued or durable enqueue that failed for good).',
      labelNames: ['listener'],
      registers,
    });
    this.duration = new Histogram({
      name: 'podium_listener_handler_duration_seconds',
      help: 'Time to handle one message for one listener: load the order, run the handler, apply its effects.',
      labelNames: ['listener', 'outcome'],
      buckets: [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
        5,
      ],
      registers,
    });
    this.batches = new Histogram({
      name: 'podium_batch_orders',
      help:
        'Orders per unit of work of a group, by source: announcements (the orders of one read from the subscriber, ' +
        'at most 100) and job (the orders a queue job carries).',
      labelNames: ['group', 'source'],
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers,
    });
  }

  /** One unit of work of `messages` messages for a group. */
  batch(
    group: string,
    source: 'announcements' | 'job',
    messages: number,
  ): void {
    this.child(this.batches, group, source).observe(messages);
  }

  messageReceived(listener: string, mode: DeliveryMode): void {
    this.child(this.received, listener, mode).inc();
  }

  /** `startedAt` from performance.now(); omitted when no handler ran (a rejected message). */
  messageProcessed(
    listener: string,
    outcome: MessageOutcome,
    startedAt?: number,
  ): void {
    this.child(this.processed, listener, outcome).inc();
    if (startedAt !== undefined)
      this.child(this.duration, listener, outcome).observe(
        (performance.now() - startedAt) / 1000,
      );
  }

  /**
   * A metric's series for two label values, looked up once: prom-client hashes the labels
   * on every call otherwise, and these run for every message and listener.
   */
  private readonly children = new Map<
    object,
    Map<string, Map<string, unknown>>
  >();
  private child<C>(
    metric: { labels(...values: string[]): C },
    first: string,
    second: string,
  ): C {
    let byFirst = this.children.get(metric);
    if (!byFirst)
      this.children.set(
        metric,
        (byFirst = new Map<string, Map<string, unknown>>()),
      );
    let bySecond = byFirst.get(first);
    if (!bySecond) byFirst.set(first, (bySecond = new Map<string, unknown>()));
    let child = bySecond.get(second) as C | undefined;
    if (!child) bySecond.set(second, (child = metric.labels(first, second)));
    return child;
  }

  retry(listener: string): void {
    this.retried.inc({ listener });
  }

  lost(listener: string): void {
    this.lostMessages.inc({ listener });
  }
}
