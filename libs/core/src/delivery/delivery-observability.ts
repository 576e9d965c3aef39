import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import type { RedisClient } from '@podium/redis';
import type { Registry } from 'prom-client';
import {
  METRICS_REGISTRY,
  READINESS_TIMEOUT_MS,
  ReadinessChecks,
  RedisMetrics,
  registerQueueMetrics,
} from '../observability/index.js';
import { AnnouncementDispatcher } from './announcements/announcement-dispatcher.js';
import { ListenerRegistrar } from './listener-registrar.js';
import { ListenerStats } from './listener-stats.js';
import { AnnouncementTransport } from './announcements/announcement-transport.js';
import { DeliveryStrategies } from './strategies/delivery-strategies.js';

/** How long after the subscriber is back the listeners' counters are read for what it missed. */
const MISSED_CHECK_DELAY_MS = 3000;

/**
 * The listeners' part of /health/ready and /metrics: ready while the subscriber connection
 * is up and holds every pattern the running listeners need, and while the queue workers run
 * and their connections answer; queue depth per group queue; the subscriber's reconnects;
 * announcements in flight; and a warning with the number of messages a listener without a
 * queue missed while its subscriber was cut. Without the observability modules it only warns.
 */
@Injectable()
export class DeliveryObservability
  implements OnModuleInit, OnApplicationBootstrap
{
  private readonly logger = new Logger('Listeners');
  constructor(
    private readonly registrar: ListenerRegistrar,
    private readonly strategies: DeliveryStrategies,
    private readonly transport: AnnouncementTransport,
    private readonly dispatcher: AnnouncementDispatcher,
    private readonly stats: ListenerStats,
    @Optional() private readonly checks?: ReadinessChecks,
    @Optional() private readonly redisMetrics?: RedisMetrics,
    @Optional() @Inject(METRICS_REGISTRY) private readonly registry?: Registry,
  ) {}

  /**
   * After the subscriber was cut and is back, says how many messages the listeners that have
   * no queue missed meanwhile (announced by the publisher, never applied): the counters are
   * read at start-up and again a few seconds after each reconnect, once the backlog read
   * before the cut is worked off.
   */
  async onApplicationBootstrap(): Promise<void> {
    const groups = this.registrar.groups.filter(
      (g) => this.strategies.for(g.mode).queueOf(g) === null,
    );
    const unqueued = groups.flatMap((g) => g.listeners.map((l) => l.name));
    if (unqueued.length === 0) return;
    const typeOf = new Map(
      groups.flatMap((g) => g.listeners.map((l) => [l.name, g.type.name])),
    );
    let known = await this.stats.unaccounted(unqueued);
    this.transport.on('ready', (client: string) => {
      if (client !== 'sub' || this.transport.reconnectCount === 0) return;
      const sayMissed = async (): Promise<void> => {
        const now = await this.stats.unaccounted(unqueued);
        for (const [listener, missed] of now) {
          const more = missed - (known.get(listener) ?? 0);
          if (more > 0)
            this.logger.warn(
              `[${listener}] missed ${more} ${typeOf.get(listener) ?? 'message'}(s) while its subscriber was away: lost (see GET /listeners on the publisher)`,
            );
        }
        known = new Map([...known, ...now]);
      };
      setTimeout(() => void sayMissed(), MISSED_CHECK_DELAY_MS).unref();
    });
  }

  onModuleInit(): void {
    const transport = this.transport;
    this.redisMetrics?.track('subscriber', {
      reconnects: () => transport.reconnectCount,
      connected: () => transport.isSubscribed(),
    });
    this.checks?.add('subscriptions', (indicators) => {
      const wanted = [...new Set(this.registrar.active.map((l) => l.pattern))];
      const held = new Set(transport.patterns());
      const missing = wanted.filter((p) => !held.has(p));
      const indicator = indicators.check('subscriptions');
      if (!transport.isSubscribed())
        return indicator.down({
          message: 'subscriber connection is not ready',
          patterns: wanted,
        });
      if (missing.length > 0)
        return indicator.down({ message: 'patterns not subscribed', missing });
      return indicator.up({
        patterns: wanted,
        reconnects: transport.reconnectCount,
        inFlight: this.dispatcher.size,
      });
    });
    this.checks?.add('queues', (indicators) =>
      indicators
        .check('queues')
        .attempt(async () => {
          const groups = (
            await Promise.all(
              this.strategies
                .all()
                .map((s) => (s.check ? s.check() : Promise.resolve([]))),
            )
          ).flat();
          return { workers: groups.length, groups };
        })
        .withTimeout(READINESS_TIMEOUT_MS),
    );
    if (this.registry) {
      const queues = () =>
        this.strategies.all().flatMap((s) => s.queues?.() ?? []);
      registerQueueMetrics(this.registry, {
        connection: () =>
          queues()[0]?.queue.opts.connection as RedisClient | undefined,
        queues: () =>
          Promise.resolve(
            queues().map(({ group, queue }) => ({ name: group, queue })),
          ),
      });
    }
  }
}
