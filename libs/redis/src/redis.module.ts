import { Global, Inject, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { redactSecrets, redisOptionsFromUrl } from './redis-url.js';

/** Injection token of the shared command connection. */
export const REDIS = Symbol('REDIS');

export interface RedisModuleOptions {
  url: string;
  /** Shown in CLIENT LIST, so an operator can tell podium's connections apart. */
  connectionName: string;
}

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
      providers: [{ provide: REDIS, useFactory: () => createRedis(options.url, options.connectionName) }],
      exports: [REDIS],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch((err: Error) => this.logger.warn(`closing Redis: ${redactSecrets(err.message)}`));
  }
}

/**
 * A connection that keeps retrying while Redis is away. `autoPipelining: false` for
 * connections handed to BullMQ, which defines its own commands on them.
 */
export function createRedis(url: string, connectionName: string, { autoPipelining = true } = {}): Redis {
  const redis = new Redis({
    ...redisOptionsFromUrl(url),
    connectionName,
    enableAutoPipelining: autoPipelining,
    // BullMQ workers need commands to wait for a reconnect rather than fail after 20 tries.
    maxRetriesPerRequest: autoPipelining ? 20 : null,
    // Keep retrying while Redis is away, at most 2 s apart.
    retryStrategy: (times) => Math.min(times * 100, 2000),
  });
  const logger = new Logger(connectionName);
  // Without an error listener ioredis prints every failed reconnect attempt as unhandled.
  redis.on('error', (err: Error) => logger.warn(`Redis: ${redactSecrets(err.message)}`));
  return redis;
}
