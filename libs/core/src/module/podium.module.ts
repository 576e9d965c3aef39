import {
  Global,
  Module,
  type DynamicModule,
  type InjectionToken,
  type ModuleMetadata,
  type OptionalFactoryDependency,
  type Provider,
} from '@nestjs/common';
import { KeyspaceModule } from '../keyspace/index.js';
import { RedisModule } from '@podium/redis';
import { PODIUM_SETTINGS, type PodiumSettings } from '../config/index.js';
import { AnnouncementTransport } from '../delivery/announcements/announcement-transport.js';
import { DeliveryModule } from '../delivery/delivery.module.js';
import { ListenerRegistrar } from '../delivery/listener-registrar.js';
import { DeliveryStrategies } from '../delivery/strategies/delivery-strategies.js';
import { FailoverModule } from '../observability/failover-monitor.js';
import { PodiumHealthModule } from '../observability/health.js';
import { PodiumMetricsModule } from '../observability/metrics.js';
import { OutboxModule } from '../publisher/outbox/outbox.module.js';
import { PublisherModule } from '../publisher/publisher.module.js';
import { QUEUE_TELEMETRY, QueuesModule } from '../queues/index.js';
import {
  resolvePodiumSettings,
  type PodiumModuleOptions,
} from './podium-options.js';

/** Injection token of the options PodiumModule was given (forRoot) or made (forRootAsync). */
export const PODIUM_OPTIONS = Symbol('PODIUM_OPTIONS');

/**
 * What an app does with podium, fixed when the module is declared (forRootAsync's options
 * come later, once the app's providers exist; these decide which providers there are).
 */
export interface PodiumModuleParts {
  /** Record and announce messages (the publisher), and run the outbox relay. Default true. */
  publish?: boolean;
  /** Run the app's listeners (every `@OnMessage` handler of its providers). Default true. */
  listen?: boolean;
  /** The Redis transport the listeners subscribe through; made from the options' Redis target by default. */
  transport?: AnnouncementTransport;
  /** Names the app's Redis connections in CLIENT LIST (`<name>`, `<name>-failover`, ...). Default `podium`. */
  connectionName?: string;
  /**
   * For an app that answers requests: the command connection has no offline queue and a
   * deadline per command, so a request fails at once while Redis is unreachable rather
   * than waiting for it. Default false.
   */
  failFast?: boolean;
}

export interface PodiumModuleAsyncOptions
  extends PodiumModuleParts, Pick<ModuleMetadata, 'imports'> {
  useFactory: (
    ...deps: never[]
  ) => PodiumModuleOptions | Promise<PodiumModuleOptions>;
  inject?: (InjectionToken | OptionalFactoryDependency)[];
}

/**
 * podium in a Nest app: publishing, listening or both, on one Redis (also behind Sentinel)
 * or a Redis Cluster. Global: its publisher, registrar, settings and health checks can be
 * injected anywhere in the app.
 *
 *   PodiumModule.forRoot({ redis: { url: 'redis://127.0.0.1:6379' } })
 *   PodiumModule.forRootAsync({
 *     imports: [ConfigModule],
 *     inject: [ConfigService],
 *     useFactory: (config: ConfigService) => ({ redis: { url: config.get('REDIS_URL') } }),
 *   })
 *
 * The options are checked as the app starts: a bad one stops it with PodiumOptionsError,
 * one line naming the option. Observability goes into the app's own: metrics register in
 * `metrics.registry`, `PodiumHealthIndicator.checks()` join its Terminus checks, and podium
 * logs through Nest's Logger.
 */
@Module({})
export class PodiumModule {
  static forRoot(
    options: PodiumModuleOptions,
    parts: PodiumModuleParts = {},
  ): DynamicModule {
    return PodiumModule.assemble(
      { provide: PODIUM_OPTIONS, useValue: options },
      [],
      parts,
    );
  }

  static forRootAsync({
    imports = [],
    useFactory,
    inject = [],
    ...parts
  }: PodiumModuleAsyncOptions): DynamicModule {
    return PodiumModule.assemble(
      { provide: PODIUM_OPTIONS, inject, useFactory },
      imports,
      parts,
    );
  }

  private static assemble(
    options: Provider,
    imports: NonNullable<ModuleMetadata['imports']>,
    {
      publish = true,
      listen = true,
      transport,
      connectionName = 'podium',
      failFast = false,
    }: PodiumModuleParts,
  ): DynamicModule {
    const settings = {
      provide: PODIUM_SETTINGS,
      inject: [PODIUM_OPTIONS],
      useFactory: resolvePodiumSettings,
    };
    const telemetry = {
      provide: QUEUE_TELEMETRY,
      inject: [PODIUM_OPTIONS],
      useFactory: (options: PodiumModuleOptions) =>
        options.queue?.telemetry ?? null,
    };
    const settingsModule: DynamicModule = {
      module: PodiumSettingsModule,
      imports,
      providers: [options, settings, telemetry],
      exports: [PODIUM_OPTIONS, PODIUM_SETTINGS, QUEUE_TELEMETRY],
    };
    return {
      module: PodiumModule,
      global: true,
      imports: [
        settingsModule,
        RedisModule.forRootAsync({
          inject: [PODIUM_SETTINGS],
          useFactory: (settings: PodiumSettings) => ({
            target: settings.redisTarget,
            connectionName,
            failFast,
          }),
        }),
        KeyspaceModule.forRootAsync({
          inject: [PODIUM_SETTINGS],
          useFactory: (settings: PodiumSettings) => settings.redisTarget,
        }),
        PodiumMetricsModule.forRoot({
          inject: [PODIUM_OPTIONS],
          useFactory: (options: PodiumModuleOptions) =>
            options.metrics?.registry,
        }),
        PodiumHealthModule,
        FailoverModule.forRoot(connectionName),
        QueuesModule,
        ...(publish ? [PublisherModule] : []),
        ...(listen ? [DeliveryModule.forRoot({ transport })] : []),
        outboxRelay(publish, listen),
      ],
      exports: [
        settingsModule,
        ...(publish ? [PublisherModule] : []),
        OutboxModule,
      ],
    };
  }
}

/** Holds the options and the settings resolved from them, for every module of PodiumModule. */
@Global()
@Module({})
class PodiumSettingsModule {}

/**
 * The outbox relay: on in an app that publishes (it finishes what a dead publisher left
 * undone); in an app that only listens, on while it runs a group with a queue (queued or
 * durable), so that claims and the jobs of durable messages are queued even when no
 * publisher runs.
 */
function outboxRelay(publish: boolean, listen: boolean): DynamicModule {
  if (publish || !listen) return OutboxModule.forRoot();
  return OutboxModule.forRoot({
    enabled: {
      inject: [ListenerRegistrar, DeliveryStrategies],
      useFactory:
        (registrar: ListenerRegistrar, strategies: DeliveryStrategies) => () =>
          registrar.groups.some(
            (group) => strategies.for(group.mode).queueOf(group) !== null,
          ),
    },
  });
}
