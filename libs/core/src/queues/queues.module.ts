import {
  Global,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { PODIUM_SETTINGS, type PodiumSettings } from '../config/index.js';
import type { Telemetry } from 'bullmq';
import { Keyspace } from '../keyspace/index.js';
import { createRedis, REDIS, type RedisClient } from '@podium/redis';
import { GroupQueues, QUEUE_TELEMETRY } from './group-queue.js';
import { MessageEnqueuer } from './message-enqueuer.js';

/**
 * The process's MessageEnqueuer: the retry policy of QUEUE_ATTEMPTS and QUEUE_BACKOFF_MS,
 * markers that live as long as the applied ones, and one BullMQ connection of its own,
 * opened on first use (close it with `enqueuer.queues.close()` outside a Nest app), and
 * BullMQ's telemetry when given.
 */
export function createMessageEnqueuer(
  redis: RedisClient,
  env: PodiumSettings,
  keys: Keyspace = Keyspace.singleRedis,
  telemetry?: Telemetry | null,
): MessageEnqueuer {
  return new MessageEnqueuer(
    redis,
    new GroupQueues(
      () =>
        createRedis(env.redisTarget, 'podium-queues', {
          autoPipelining: false,
        }),
      keys,
      telemetry ?? undefined,
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
    @Inject(MessageEnqueuer) private readonly enqueuer: MessageEnqueuer,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.enqueuer.queues.close();
  }
}

/**
 * The MessageEnqueuer of the process (publisher and listeners alike). Part of PodiumModule,
 * whose settings, Redis connection and Keyspace it uses.
 */
@Global()
@Module({
  providers: [
    {
      provide: MessageEnqueuer,
      inject: [
        REDIS,
        PODIUM_SETTINGS,
        Keyspace,
        { token: QUEUE_TELEMETRY, optional: true },
      ],
      useFactory: createMessageEnqueuer,
    },
    QueuesShutdown,
  ],
  exports: [MessageEnqueuer],
})
export class QueuesModule {}
