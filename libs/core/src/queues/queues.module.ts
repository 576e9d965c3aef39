import {
  Global,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { PODIUM_SETTINGS, type PodiumSettings } from '../config/index.js';
import { Keyspace } from '@podium/orders';
import { createRedis, REDIS, type RedisClient } from '@podium/redis';
import { GroupQueues } from './group-queue.js';
import { OrderEnqueuer } from './order-enqueuer.js';

/**
 * The process's OrderEnqueuer: the retry policy of QUEUE_ATTEMPTS and QUEUE_BACKOFF_MS,
 * markers that live as long as the applied ones, and one BullMQ connection of its own,
 * opened on first use (close it with `enqueuer.queues.close()` outside a Nest app).
 */
export function createOrderEnqueuer(
  redis: RedisClient,
  env: PodiumSettings,
  keys: Keyspace = Keyspace.singleRedis,
): OrderEnqueuer {
  return new OrderEnqueuer(
    redis,
    new GroupQueues(
      () =>
        createRedis(env.redisTarget, 'podium-queues', {
          autoPipelining: false,
        }),
      keys,
    ),
    { attempts: env.QUEUE_ATTEMPTS, backoffMs: env.QUEUE_BACKOFF_MS },
    env.APPLIED_MARKER_TTL_SECONDS,
    keys,
  );
}

/** Closes the queues' connection when the app stops. */
@Injectable()
class QueuesShutdown implements OnApplicationShutdown {
  constructor(
    @Inject(OrderEnqueuer) private readonly enqueuer: OrderEnqueuer,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.enqueuer.queues.close();
  }
}

/**
 * The OrderEnqueuer of the process (box office and listeners alike). Part of PodiumModule,
 * whose settings, Redis connection and Keyspace it uses.
 */
@Global()
@Module({
  providers: [
    {
      provide: OrderEnqueuer,
      inject: [REDIS, PODIUM_SETTINGS, Keyspace],
      useFactory: createOrderEnqueuer,
    },
    QueuesShutdown,
  ],
  exports: [OrderEnqueuer],
})
export class QueuesModule {}
