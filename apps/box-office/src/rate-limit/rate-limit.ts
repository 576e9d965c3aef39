import {
  applyDecorators,
  Module,
  SetMetadata,
  UseGuards,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import {
  ErrorResponse,
  FailoverMonitor,
  PodiumEnv,
  rateLimitKey,
} from '@podium/core';
import { REDIS, type RedisClient } from '@podium/redis';
import { RedisThrottlerStorage } from './redis-throttler.storage.js';

/** The variables that set a route's limit, in requests per client per minute (0: no limit). */
export type RateLimitVariable = 'PURCHASE_RATE_LIMIT' | 'EVENT_RATE_LIMIT';

/** The route each limit counts, in its key's name (podium:rate-limit:<route>:<client>). */
const ROUTES: Record<RateLimitVariable, string> = {
  PURCHASE_RATE_LIMIT: 'purchases',
  EVENT_RATE_LIMIT: 'events',
};

interface RateLimitSpec {
  variable: RateLimitVariable;
  /** What is counted, for the 429 message: "too many purchases from this client". */
  what: string;
}

const RATE_LIMIT = Symbol('podium:rate-limit');

/**
 * Limits a route per client IP address to the number of requests a minute that `variable`
 * says (0 turns it off): 429 with Retry-After beyond it. Each route counts on its own, in
 * Redis, once for all box offices.
 */
export const RateLimit = (variable: RateLimitVariable, what: string) =>
  applyDecorators(
    SetMetadata(RATE_LIMIT, { variable, what } satisfies RateLimitSpec),
    UseGuards(ThrottlerGuard),
    ApiTooManyRequestsResponse({
      type: ErrorResponse,
      description: `More than ${variable} requests from this client in a minute (see Retry-After)`,
    }),
  );

/**
 * @nestjs/throttler for the box office, counted in Redis on the box office's connection
 * (RedisThrottlerStorage), so that every box office on one Redis counts a client once. One
 * throttler whose limit each route names through @RateLimit; a route without it is never
 * limited. While Redis cannot count, a limited route answers 503 (RedisUnavailableFilter);
 * during a failover nothing is counted (see RedisThrottlerStorage).
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [
        PodiumEnv,
        Reflector,
        REDIS,
        { token: FailoverMonitor, optional: true },
      ],
      useFactory: (
        env: PodiumEnv,
        reflector: Reflector,
        redis: RedisClient,
        failover?: FailoverMonitor,
      ) => {
        const spec = (context: ExecutionContext) =>
          reflector.get<RateLimitSpec | undefined>(
            RATE_LIMIT,
            context.getHandler(),
          );
        const limit = (context: ExecutionContext) => {
          const found = spec(context);
          return found ? env[found.variable] : 0;
        };
        return {
          storage: new RedisThrottlerStorage(redis, failover),
          // Only limited routes are counted (skipIf), so spec() is there.
          generateKey: (context: ExecutionContext, client: string) =>
            rateLimitKey(ROUTES[spec(context)!.variable], client),
          throttlers: [
            {
              ttl: 60_000,
              limit: (context: ExecutionContext) => Math.max(limit(context), 1),
            },
          ],
          skipIf: (context: ExecutionContext) => limit(context) === 0,
          errorMessage: (
            context: ExecutionContext,
            detail: { limit: number },
          ) =>
            `too many ${spec(context)?.what ?? 'requests'} from this client: at most ${detail.limit} a minute`,
        };
      },
    }),
  ],
})
export class RateLimitModule {}
