import { Global, Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { DeliveryMetrics } from './delivery-metrics.js';
import { DeliveryObservability } from './delivery-observability.js';
import { DELIVERY_OPTIONS, type DeliveryOptions } from './delivery.options.js';
import { EffectApplier } from './effect-applier.js';
import { ListenerRegistrar } from './listener-registrar.js';
import { ListenerRunner } from './listener-runner.js';
import { OrderLoader } from './order-loader.js';
import { PurchaseTransport } from './purchase-transport.js';
import { QueuedDelivery } from './queued-delivery.js';

export interface DeliveryModuleOptions extends DeliveryOptions {
  /** The transport the listeners subscribe through: the microservice's strategy. */
  transport: PurchaseTransport;
}

/** Binds the listeners found in the app to the Redis transport, with exactly-once effects. */
@Global()
@Module({})
export class DeliveryModule {
  static forRoot({ transport, ...options }: DeliveryModuleOptions): DynamicModule {
    return {
      module: DeliveryModule,
      imports: [DiscoveryModule],
      providers: [
        { provide: DELIVERY_OPTIONS, useValue: options },
        { provide: PurchaseTransport, useValue: transport },
        OrderLoader,
        EffectApplier,
        ListenerRunner,
        QueuedDelivery,
        ListenerRegistrar,
        DeliveryMetrics,
        DeliveryObservability,
      ],
      exports: [ListenerRegistrar, ListenerRunner, QueuedDelivery, EffectApplier, OrderLoader, DeliveryMetrics],
    };
  }
}
