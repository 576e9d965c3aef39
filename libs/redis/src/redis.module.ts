import {
  Global,
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type InjectionToken,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  createRedis,
  FAIL_FAST_COMMAND_TIMEOUT_MS,
  type RedisClient,
} from './redis-connection.js';
import type { RedisTarget } from './redis-target.js';
import { redactSecrets } from './redis-url.js';

/** Injection token of the shared command connection. */
export const REDIS = Symbol('REDIS');

export interface RedisModuleOptions {
  /** Where to connect (PodiumEnv.redisTarget). */
  target: RedisTarget;
  /** Shown in CLIENT LIST, so an operator can tell podium's connections apart. */
  connectionName: string;
  /** For a request path: no offline queue, and a deadline per command (see createRedis). */
  failFast?: boolean;
}

/**
 * One command connection per process, with auto-pipelining: the commands that many
 * concurrent handlers issue in one tick go to Redis in one write.
 */
@Global()
@Module({})
export class RedisModule implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisModule.name);

  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  static forRoot(options: RedisModuleOptions): DynamicModule {
    return RedisModule.forRootAsync({ useFactory: () => options });
  }

  /** Its options from the app's providers (the settings of PodiumModule). */
  static forRootAsync({
    inject = [],
    useFactory,
  }: {
    inject?: InjectionToken[];
    useFactory: (...deps: never[]) => RedisModuleOptions;
  }): DynamicModule {
    return {
      module: RedisModule,
      providers: [
        {
          provide: REDIS,
          inject,
          useFactory: async (...deps: never[]) => {
            const options = useFactory(...deps);
            const redis = createRedis(options.target, options.connectionName, {
              failFast: options.failFast,
            });
            // Without an offline queue a command sent before the connection is ready fails:
            // start-up waits for it a little, and then goes on (requests answer 503 meanwhile).
            if (options.failFast)
              await whenReady(redis, FAIL_FAST_COMMAND_TIMEOUT_MS);
            return redis;
          },
        },
      ],
      exports: [REDIS],
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

/** Resolves once the connection is ready, or after `timeoutMs` in any case. */
function whenReady(redis: RedisClient, timeoutMs: number): Promise<void> {
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
