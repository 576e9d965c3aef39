import { Module, type DynamicModule, type Type } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import {
  parseListenerNames,
  PodiumConfigModule,
  PodiumEnv,
} from '../config/index.js';
import { ObservabilityModule } from '../observability/index.js';
import { KeyspaceModule } from '@podium/orders';
import { RedisModule } from '@podium/redis';
import { DeliveryModule } from './delivery.module.js';
import { ListenersOutboxModule } from './listeners-outbox.module.js';
import type { PurchaseTransport } from './announcements/purchase-transport.js';

export interface PodiumListenersOptions {
  env: PodiumEnv;
  /** The microservice's transport strategy (see PurchaseTransport). */
  transport: PurchaseTransport;
  /** Listener modules to host; LISTENERS in env picks which of them run. */
  listeners: Type[];
  /** With LOG_FORMAT=json: where the lines go instead of stdout. */
  logDestination?: DestinationStream;
}

/**
 * Everything a listeners process needs: configuration, Redis, delivery, the outbox relay
 * (with durable listeners), the listener modules, and /health, /metrics and JSON logs
 * (served when the app is a hybrid HTTP app, see createListenersApplication; a plain
 * microservice just keeps the counters).
 */
@Module({})
export class PodiumListenersModule {
  static forRoot({
    env,
    transport,
    listeners,
    logDestination,
  }: PodiumListenersOptions): DynamicModule {
    return {
      module: PodiumListenersModule,
      imports: [
        PodiumConfigModule.forRoot(env),
        RedisModule.forRoot({
          target: env.redisTarget,
          connectionName: 'podium-listeners',
        }),
        KeyspaceModule.forRoot(env.redisTarget),
        ObservabilityModule.forRoot({ app: 'listeners', env, logDestination }),
        DeliveryModule.forRoot({
          transport,
          redisTarget: env.redisTarget,
          listeners: parseListenerNames(env.LISTENERS),
          defaultMode: env.DELIVERY,
          modeOverrides: env.deliveryOverrides,
          groupOverrides: env.groupOverrides,
          maxInFlight: env.MAX_IN_FLIGHT,
          queue: {
            concurrency: env.QUEUE_CONCURRENCY,
            attempts: env.QUEUE_ATTEMPTS,
            backoffMs: env.QUEUE_BACKOFF_MS,
            lockMs: env.QUEUE_LOCK_MS,
            stalledCheckMs: env.QUEUE_STALLED_CHECK_MS,
          },
          appliedMarkerTtlSeconds: env.APPLIED_MARKER_TTL_SECONDS,
          waitReplicas: {
            replicas: env.REDIS_WAIT_REPLICAS,
            timeoutMs: env.REDIS_WAIT_TIMEOUT_MS,
          },
        }),
        ListenersOutboxModule,
        ...listeners,
      ],
    };
  }
}
