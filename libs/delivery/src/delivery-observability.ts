import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY, READINESS_TIMEOUT_MS, ReadinessChecks, RedisMetrics, registerQueueMetrics } from '@podium/observability';
import { AnnouncementDispatcher } from './announcement-dispatcher.js';
import { ListenerRegistrar } from './listener-registrar.js';
import { PurchaseTransport } from './purchase-transport.js';
import { DeliveryStrategies } from './strategies/delivery-strategies.js';

/**
 * The listeners' part of /health/ready and /metrics: ready while the subscriber connection
 * is up and holds every pattern the running listeners need, and while the queue workers run
 * and their connections answer; queue depth per group queue; the subscriber's reconnects;
 * announcements in flight. Without the observability modules it does nothing.
 */
@Injectable()
export class DeliveryObservability implements OnModuleInit {
  constructor(
    private readonly registrar: ListenerRegistrar,
    private readonly strategies: DeliveryStrategies,
    private readonly transport: PurchaseTransport,
    private readonly dispatcher: AnnouncementDispatcher,
    @Optional() private readonly checks?: ReadinessChecks,
    @Optional() private readonly redisMetrics?: RedisMetrics,
    @Optional() @Inject(METRICS_REGISTRY) private readonly registry?: Registry,
  ) {}

  onModuleInit(): void {
    const transport = this.transport;
    this.redisMetrics?.track('subscriber', { reconnects: () => transport.reconnectCount, connected: () => transport.isSubscribed() });
    this.checks?.add('subscriptions', (indicators) => {
      const wanted = [...new Set(this.registrar.active.map((l) => l.pattern))];
      const held = new Set(transport.patterns());
      const missing = wanted.filter((p) => !held.has(p));
      const indicator = indicators.check('subscriptions');
      if (!transport.isSubscribed()) return indicator.down({ message: 'subscriber connection is not ready', patterns: wanted });
      if (missing.length > 0) return indicator.down({ message: 'patterns not subscribed', missing });
      return indicator.up({ patterns: wanted, reconnects: transport.reconnectCount, inFlight: this.dispatcher.size });
    });
    this.checks?.add('queues', (indicators) =>
      indicators
        .check('queues')
        .attempt(async () => {
          const groups = (await Promise.all(this.strategies.all().map((s) => s.check()))).flat();
          return { workers: groups.length, groups };
        })
        .withTimeout(READINESS_TIMEOUT_MS),
    );
    if (this.registry) {
      const queues = () => this.strategies.all().flatMap((s) => s.queues());
      registerQueueMetrics(this.registry, {
        connection: () => queues()[0]?.queue.opts.connection as Redis | undefined,
        queues: async () => queues().map(({ group, queue }) => ({ name: group, queue })),
      });
    }
  }
}
