import { Counter, Histogram, type Registry } from 'prom-client';

/** The publisher's counters, in process memory (no round trip), read by Prometheus from /metrics. */
export class PublisherMetrics {
  readonly published: Counter;
  readonly records: Counter<'outcome'>;
  readonly duration: Histogram<'outcome'>;
  readonly enqueued: Counter<'group'>;
  readonly leftToRelay: Counter;
  readonly jobMessageIds: Histogram<'group'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.published = new Counter({
      name: 'podium_orders_published_total',
      help: 'Orders recorded and announced by this process (replays of an Idempotency-Key not counted).',
      registers,
    });
    this.records = new Counter({
      name: 'podium_order_records_total',
      help: 'Purchases this process tried to record, by outcome: created, replay (a known Idempotency-Key), sold_out, no_event.',
      labelNames: ['outcome'],
      registers,
    });
    this.duration = new Histogram({
      name: 'podium_order_record_duration_seconds',
      help: 'Time to record an order: the script and, for durable subscriptions, queueing its jobs.',
      labelNames: ['outcome'],
      buckets: [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
      ],
      registers,
    });
    this.enqueued = new Counter({
      name: 'podium_durable_orders_enqueued_total',
      help: 'Orders this process queued for durable subscriptions, by listener group.',
      labelNames: ['group'],
      registers,
    });
    this.leftToRelay = new Counter({
      name: 'podium_orders_left_to_relay_total',
      help: 'Orders recorded whose durable jobs Redis did not let this process queue in time: the outbox relay queues them.',
      registers,
    });
    this.jobMessageIds = new Histogram({
      name: 'podium_publisher_job_orders',
      help: 'Orders per job this process queued for a durable group: the purchases of one tick share one.',
      labelNames: ['group'],
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
      registers,
    });
  }
}
