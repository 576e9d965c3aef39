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
  type HealthIndicatorFunction,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { PODIUM_SETTINGS, type PodiumSettings } from '../config/index.js';
import {
  livenessOf,
  READINESS_PROBE_KEY,
  REDIS,
  type ConnectionLiveness,
  type RedisClient,
} from '@podium/redis';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY } from './metrics.js';
import { registerReadinessMetrics } from './readiness-metrics.js';

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

  /** The checks with the key each reports under (`redis`, `subscriptions`, ...). */
  named(): [string, ReadinessCheck][] {
    return [...this.checks.entries()];
  }
}

/**
 * Ready only while the shared Redis connection is up and accepts a write within a second:
 * Redis out of memory (maxmemory with noeviction) still answers PING and reads, but refuses
 * every write, so a PING alone would stay green while no message can be recorded.
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

/**
 * Not ready while one of the process's connections answers nothing past
 * REDIS_LIVENESS_TIMEOUT_MS, or was dropped for it and is not back yet.
 */
export function livenessReadiness(
  liveness: ConnectionLiveness,
): ReadinessCheck {
  return (indicators) => {
    const check = indicators.check('redis-liveness');
    const silent = liveness.silent();
    return silent.length === 0
      ? check.up()
      : check.down({
          message: silent
            .map(
              (s) =>
                `connection ${s.connection} answered nothing for ${(s.silentMs / 1000).toFixed(1)} s${s.replaced ? ': replaced, connecting again' : ''}`,
            )
            .join('; '),
        });
  };
}

@Injectable()
class RedisReadiness implements OnModuleInit {
  constructor(
    private readonly checks: ReadinessChecks,
    @Optional() @Inject(REDIS) private readonly redis?: RedisClient,
    @Optional()
    @Inject(PODIUM_SETTINGS)
    private readonly env?: PodiumSettings,
  ) {}

  onModuleInit(): void {
    if (this.redis)
      this.checks.add('redis', redisReadiness('redis', this.redis));
    if (this.env)
      this.checks.add(
        'redis-liveness',
        livenessReadiness(livenessOf(this.env.redisTarget)),
      );
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

/**
 * podium's readiness checks, for the app's own Terminus health checks:
 * `health.check([...podiumHealth.checks(), ...yours])`. They are the ones the podium apps'
 * /health/ready runs: Redis accepts a write, no connection is silent, and what each part
 * adds (the listeners' subscriptions and workers, a failover under way).
 */
@Injectable()
export class PodiumHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly readiness: ReadinessChecks,
  ) {}

  checks(): HealthIndicatorFunction[] {
    return this.readiness.list().map((check) => () => check(this.indicators));
  }
}

/** The readiness checks (ReadinessChecks, PodiumHealthIndicator), without an endpoint: PodiumModule brings it. */
@Global()
@Module({
  imports: [TerminusModule],
  providers: [ReadinessChecks, RedisReadiness, PodiumHealthIndicator],
  exports: [ReadinessChecks, PodiumHealthIndicator],
})
export class PodiumHealthModule {}

/** podium_ready on the app's registry: each readiness check as a series, for alerts. */
@Injectable()
class ReadinessMetrics implements OnModuleInit {
  constructor(
    private readonly checks: ReadinessChecks,
    private readonly indicators: HealthIndicatorService,
    @Optional() @Inject(METRICS_REGISTRY) private readonly registry?: Registry,
  ) {}

  onModuleInit(): void {
    if (this.registry)
      registerReadinessMetrics(this.registry, this.checks, this.indicators);
  }
}

/** /health/live and /health/ready (the podium apps'), on the checks of PodiumModule, and podium_ready. */
@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' })],
  controllers: [HealthController],
  providers: [ReadinessMetrics],
})
export class HealthModule {}
