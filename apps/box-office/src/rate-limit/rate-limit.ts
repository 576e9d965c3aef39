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
import { PodiumEnv, ErrorResponse } from '@podium/core';

/** The variables that set a route's limit, in requests per client per minute (0: no limit). */
export type RateLimitVariable = 'PURCHASE_RATE_LIMIT' | 'EVENT_RATE_LIMIT';

interface RateLimitSpec {
  variable: RateLimitVariable;
  /** What is counted, for the 429 message: "too many purchases from this client". */
  what: string;
}

const RATE_LIMIT = Symbol('podium:rate-limit');

/**
 * Limits a route per client IP address to the number of requests a minute that `variable`
 * says (0 turns it off): 429 with Retry-After beyond it. Each route counts on its own.
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
 * @nestjs/throttler for the box office, counted in this process's memory. One throttler
 * whose limit each route names through @RateLimit; a route without it is never limited.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [PodiumEnv, Reflector],
      useFactory: (env: PodiumEnv, reflector: Reflector) => {
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
