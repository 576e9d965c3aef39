import {
  Controller,
  Get,
  Global,
  Inject,
  Injectable,
  Module,
  Optional,
  type OnModuleInit,
} from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TerminusModule,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { REDIS, type RedisClient } from '@podium/redis';

/** How long a readiness check may take before it counts as down. */
export const READINESS_TIMEOUT_MS = 1000;

export type ReadinessCheck = (
  indicators: HealthIndicatorService,
) => PromiseLike<HealthIndicatorResult> | HealthIndicatorResult;

/** The checks /health/ready runs; each part of the app adds its own at start-up. */
@Injectable()
export class ReadinessChecks {
  private readonly checks = new Map<string, ReadinessCheck>();

  add(key: string, check: ReadinessCheck): void {
    this.checks.set(key, check);
  }

  list(): ReadinessCheck[] {
    return [...this.checks.values()];
  }
}

/** The key the readiness probe writes (a few bytes, expiring after a minute). */
export const READINESS_PROBE_KEY = 'podium:health:probe';

/**
 * Ready only while the shared Redis connection is up and accepts a write within a second:
 * Redis out of memory (maxmemory with noeviction) still answers PING and reads, but refuses
 * every write, so a PING alone would stay green while no purchase can be recorded.
 */
export function redisReadiness(
  key: string,
  redis: RedisClient,
): ReadinessCheck {
  return (indicators) =>
    indicators
      .check(key)
      .attempt(async () => {
        if (redis.status !== 'ready')
          throw new Error(`connection is ${redis.status}`);
        await redis
          .set(READINESS_PROBE_KEY, Date.now(), 'PX', 60_000)
          .catch((err: Error) => {
            throw new Error(
              err.message.startsWith('OOM ')
                ? 'Redis is out of memory and refuses writes'
                : `Redis refuses writes: ${err.message}`,
            );
          });
      })
      .withTimeout(READINESS_TIMEOUT_MS);
}

@Injectable()
class RedisReadiness implements OnModuleInit {
  constructor(
    private readonly checks: ReadinessChecks,
    @Optional() @Inject(REDIS) private readonly redis?: RedisClient,
  ) {}

  onModuleInit(): void {
    if (this.redis)
      this.checks.add('redis', redisReadiness('redis', this.redis));
  }
}

/**
 * Kubernetes-style probes: /health/live answers while the process runs its event loop;
 * /health/ready runs every readiness check (503 with the failing ones when one is down).
 */
@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly checks: ReadinessChecks,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process is running' })
  live() {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary:
      'Readiness: RedisClient answers (and, on the listeners, subscriptions and queues are in place)',
  })
  ready() {
    return this.health.check(
      this.checks.list().map((check) => () => check(this.indicators)),
    );
  }
}

@Global()
@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' })],
  controllers: [HealthController],
  providers: [ReadinessChecks, RedisReadiness],
  exports: [ReadinessChecks, TerminusModule],
})
export class HealthModule {}
