import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { parseListenerNames, PodiumConfigModule, PodiumEnv } from '@podium/config';
import { RedisModule } from '@podium/redis';
import { DeliveryModule } from './delivery.module.js';
import type { PurchaseTransport } from './purchase-transport.js';

export interface PodiumListenersOptions {
  env: PodiumEnv;
  /** The microservice's transport strategy (see PurchaseTransport). */
  transport: PurchaseTransport;
  /** Listener modules to host; LISTENERS in env picks which of them run. */
  listeners: Type[];
}

/** Everything a listeners process needs: configuration, Redis, delivery, the listener modules. */
@Module({})
export class PodiumListenersModule {
  static forRoot({ env, transport, listeners }: PodiumListenersOptions): DynamicModule {
    return {
      module: PodiumListenersModule,
      imports: [
        PodiumConfigModule.forRoot(env),
        RedisModule.forRoot({ url: env.REDIS_URL, connectionName: 'podium-listeners' }),
        DeliveryModule.forRoot({
          transport,
          listeners: parseListenerNames(env.LISTENERS),
          appliedMarkerTtlSeconds: env.APPLIED_MARKER_TTL_SECONDS,
        }),
        ...listeners,
      ],
    };
  }
}
