import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY, READINESS_TIMEOUT_MS, ReadinessChecks, RedisMetrics, registerQueueMetrics } from '@podium/observability';
import { ListenerRegistrar } from './listener-registrar.js';
import { PurchaseTransport } from './purchase-transport.js';
import { QueuedDelivery } from './queued-delivery.js';

/**
 * The listeners' part of /health/ready and /metrics: ready while the subscriber connection
 * is up and holds every pattern the running listeners need, and while the workers of queued
 * and durable listeners run and their connection answers; queue depth per running queue;
 * the subscriber's reconnects. Without the observability modules (a bench) it does nothing.
 */
@Injectable()
export class DeliveryObservability implements OnModuleInit {
  constructor(
    private readonly registrar: ListenerRegistrar,
    private readonly queued: QueuedDelivery,
    @Optional() private readonly transport?: PurchaseTransport,
    @Optional() private readonly checks?: ReadinessChecks,
    @Optional() private readonly redisMetrics?: RedisMetrics,
    @Optional() @Inject(METRICS_REGISTRY) private readonly registry?: Registry,
  ) {}

  onModuleInit(): void {
    const transport = this.transport;
    if (transport) {
      this.redisMetrics?.track('subscriber', { reconnects: () => transport.reconnectCount, connected: () => transport.isSubscribed() });
      this.checks?.add('subscriptions', (indicators) => {
        const wanted = [...new Set(this.registrar.active.map((l) => l.pattern))];
        const held = new Set(transport.patterns());
        const missing = wanted.filter((p) => !held.has(p));
        const indicator = indicators.check('subscriptions');
        if (!transport.isSubscribed()) return indicator.down({ message: 'subscriber connection is not ready', patterns: wanted });
        if (missing.length > 0) return indicator.down({ message: 'patterns not subscribed', missing });
        return indicator.up({ patterns: wanted, reconnects: transport.reconnectCount });
      });
    }
    this.checks?.add('queues', (indicators) =>
      indicators
        .check('queues')
        .attempt(() => this.queued.checkWorkers())
        .withTimeout(READINESS_TIMEOUT_MS),
    );
    if (this.registry) {
      registerQueueMetrics(this.registry, {
        connection: () => this.queued.connection,
        queues: async () => this.queued.workerQueues(),
      });
    }
  }
}
