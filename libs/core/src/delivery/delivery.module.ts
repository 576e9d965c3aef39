import { Global, Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { QueuesModule } from '../queues/index.js';
import { AnnouncementDispatcher } from './announcements/announcement-dispatcher.js';
import { DeliveryMetrics } from './delivery-metrics.js';
import { DeliveryObservability } from './delivery-observability.js';
import { DELIVERY_OPTIONS, type DeliveryOptions } from './delivery.options.js';
import { EffectApplier } from './effects/effect-applier.js';
import { ListenerRegistrar } from './listener-registrar.js';
import { ListenerStats } from './listener-stats.js';
import { OrderLoader } from './work/order-loader.js';
import { OrderWork } from './work/order-work.js';
import { PurchaseTransport } from './announcements/purchase-transport.js';
import { DeliveryStrategies } from './strategies/delivery-strategies.js';
import { DurableDelivery } from './strategies/durable-delivery.js';
import { EphemeralDelivery } from './strategies/ephemeral-delivery.js';
import { QueuedDelivery } from './strategies/queued-delivery.js';

export interface DeliveryModuleOptions extends DeliveryOptions {
  /** The transport the listeners subscribe through: the microservice's strategy. */
  transport: PurchaseTransport;
}

/** Binds the listeners found in the app to the Redis transport, with exactly-once effects. */
@Global()
@Module({})
export class DeliveryModule {
  static forRoot({
    transport,
    ...options
  }: DeliveryModuleOptions): DynamicModule {
    return {
      module: DeliveryModule,
      imports: [DiscoveryModule, QueuesModule],
      providers: [
        { provide: DELIVERY_OPTIONS, useValue: options },
        { provide: PurchaseTransport, useValue: transport },
        OrderLoader,
        EffectApplier,
        OrderWork,
        ListenerStats,
        DeliveryMetrics,
        EphemeralDelivery,
        QueuedDelivery,
        DurableDelivery,
        DeliveryStrategies,
        AnnouncementDispatcher,
        ListenerRegistrar,
        DeliveryObservability,
      ],
      exports: [
        ListenerRegistrar,
        ListenerStats,
        AnnouncementDispatcher,
        DeliveryStrategies,
        OrderLoader,
        DeliveryMetrics,
      ],
    };
  }
}
