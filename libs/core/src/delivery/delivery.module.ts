import { Global, Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import {
  parseListenerNames,
  PODIUM_SETTINGS,
  type PodiumSettings,
} from '../config/index.js';
import { QueuesModule } from '../queues/index.js';
import { AnnouncementDispatcher } from './announcements/announcement-dispatcher.js';
import { AnnouncementTracing } from './announcements/announcement-tracing.js';
import { DeliveryMetrics } from './delivery-metrics.js';
import { DeliveryObservability } from './delivery-observability.js';
import { DELIVERY_OPTIONS, type DeliveryOptions } from './delivery.options.js';
import { EffectApplier } from './effects/effect-applier.js';
import { ListenerRegistrar } from './listener-registrar.js';
import { ListenerStats } from './listener-stats.js';
import { MessageLoader } from './work/message-loader.js';
import { MessageWork } from './work/message-work.js';
import { AnnouncementTransport } from './announcements/announcement-transport.js';
import { DeliveryStrategies } from './strategies/delivery-strategies.js';
import { DurableDelivery } from './strategies/durable-delivery.js';
import { EphemeralDelivery } from './strategies/ephemeral-delivery.js';
import { QueuedDelivery } from './strategies/queued-delivery.js';

export interface DeliveryModuleOptions {
  /** The transport the listeners subscribe through (the microservice's strategy); made from the settings' Redis target when not given. */
  transport?: AnnouncementTransport;
}

/** The delivery options of the app's settings (PodiumModule's options). */
export function deliveryOptionsOf(settings: PodiumSettings): DeliveryOptions {
  return {
    redisTarget: settings.redisTarget,
    listeners: parseListenerNames(settings.LISTENERS),
    defaultMode: settings.DELIVERY,
    modeOverrides: settings.deliveryOverrides,
    groupOverrides: settings.groupOverrides,
    maxInFlight: settings.MAX_IN_FLIGHT,
    queue: {
      concurrency: settings.QUEUE_CONCURRENCY,
      attempts: settings.QUEUE_ATTEMPTS,
      backoffMs: settings.QUEUE_BACKOFF_MS,
      lockMs: settings.QUEUE_LOCK_MS,
      stalledCheckMs: settings.QUEUE_STALLED_CHECK_MS,
    },
    appliedMarkerTtlSeconds: settings.APPLIED_MARKER_TTL_SECONDS,
    waitReplicas: {
      replicas: settings.REDIS_WAIT_REPLICAS,
      timeoutMs: settings.REDIS_WAIT_TIMEOUT_MS,
    },
  };
}

/** Binds the listeners found in the app to the Redis transport, with exactly-once effects. */
@Global()
@Module({})
export class DeliveryModule {
  static forRoot({ transport }: DeliveryModuleOptions = {}): DynamicModule {
    return {
      module: DeliveryModule,
      imports: [DiscoveryModule, QueuesModule],
      providers: [
        {
          provide: DELIVERY_OPTIONS,
          inject: [PODIUM_SETTINGS],
          useFactory: deliveryOptionsOf,
        },
        {
          provide: AnnouncementTransport,
          inject: [PODIUM_SETTINGS],
          useFactory: (settings: PodiumSettings) =>
            transport ?? new AnnouncementTransport(settings.redisTarget),
        },
        MessageLoader,
        EffectApplier,
        MessageWork,
        ListenerStats,
        DeliveryMetrics,
        EphemeralDelivery,
        QueuedDelivery,
        DurableDelivery,
        DeliveryStrategies,
        AnnouncementTracing,
        AnnouncementDispatcher,
        ListenerRegistrar,
        DeliveryObservability,
      ],
      exports: [
        AnnouncementTransport,
        ListenerRegistrar,
        ListenerStats,
        AnnouncementDispatcher,
        DeliveryStrategies,
        MessageLoader,
        DeliveryMetrics,
      ],
    };
  }
}
