import {
  Global,
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Redis } from 'ioredis';
import { Keyspace } from '@podium/orders';
import { PlacedReads } from './placed-reads.js';
import { redactSecrets, redisOptionsFromUrl } from './redis-url.js';

/** Injection token of the shared command connection. */
export const REDIS = Symbol('REDIS');

export interface RedisModuleOptions {
  url: string;
  /** Shown in CLIENT LIST, so an operator can tell podium's connections apart. */
  connectionName: string;
  /** For a request path: no offline queue, and a deadline per command (see createRedis). */
  failFast?: boolean;
}

/** How long a fail-fast connection's command may take, and how long start-up waits for Redis. */
export const FAIL_FAST_COMMAND_TIMEOUT_MS = 2000;

/**
 * One command connection per process, with auto-pipelining: the commands that many
 * concurrent handlers issue in one tick go to Redis in one write.
 */
@Global()
@Module({})
export class RedisModule implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisModule.name);

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  static forRoot(options: RedisModuleOptions): DynamicModule {
    return {
      module: RedisModule,
      providers: [
        {
          provide: REDIS,
          useFactory: async () => {
            const redis = createRedis(options.url, options.connectionName, {
              failFast: options.failFast,
            });
            // Without an offline queue a command sent before the connection is ready fails:
            // start-up waits for it a little, and then goes on (requests answer 503 meanwhile).
            if (options.failFast)
              await whenReady(redis, FAIL_FAST_COMMAND_TIMEOUT_MS);
            return redis;
          },
        },
        // Where each key lives (the seed's names on one Redis).
        { provide: Keyspace, useValue: Keyspace.singleRedis },
        {
          provide: PlacedReads,
          inject: [REDIS, Keyspace],
          useFactory: (redis: Redis, keys: Keyspace) =>
            new PlacedReads(redis, keys),
        },
      ],
      exports: [REDIS, Keyspace, PlacedReads],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis
      .quit()
      .catch((err: Error) =>
        this.logger.warn(`closing Redis: ${redactSecrets(err.message)}`),
      );
  }
}

export interface CreateRedisOptions {
  /** false for connections handed to BullMQ, which defines its own commands on them. */
  autoPipelining?: boolean;
  /**
   * For a request path: commands fail at once while the connection is down instead of
   * waiting in ioredis' offline queue (which would run them when Redis returns, long after
   * the client gave up), and fail after FAIL_FAST_COMMAND_TIMEOUT_MS when Redis does not answer.
   */
  failFast?: boolean;
}

/** A connection that keeps reconnecting while Redis is away. */
export function createRedis(
  url: string,
  connectionName: string,
  { autoPipelining = true, failFast = false }: CreateRedisOptions = {},
): Redis {
  const redis = new Redis({
    ...redisOptionsFromUrl(url),
    connectionName,
    enableAutoPipelining: autoPipelining,
    // BullMQ workers need commands to wait for a reconnect rather than fail after 20 tries.
    maxRetriesPerRequest: autoPipelining ? 20 : null,
    ...(failFast && {
      enableOfflineQueue: false,
      commandTimeout: FAIL_FAST_COMMAND_TIMEOUT_MS,
      maxRetriesPerRequest: 0,
    }),
    // Keep retrying while Redis is away, at most 2 s apart.
    retryStrategy: (times) => Math.min(times * 100, 2000),
  });
  const logger = new Logger(connectionName);
  // Without an error listener ioredis prints every failed reconnect attempt as unhandled.
  redis.on('error', (err: Error) =>
    logger.warn(`Redis: ${redactSecrets(err.message)}`),
  );
  return redis;
}

/** Resolves once the connection is ready, or after `timeoutMs` in any case. */
function whenReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    redis.once('ready', done);
    function done(): void {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    }
  });
}
