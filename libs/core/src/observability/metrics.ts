import {
  Controller,
  Get,
  Global,
  Inject,
  Module,
  Res,
  type DynamicModule,
  type InjectionToken,
  type OnModuleInit,
} from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
} from 'prom-client';
import { PODIUM_SETTINGS, type PodiumSettings } from '../config/index.js';
import {
  livenessOf,
  REDIS,
  type ConnectionLiveness,
  type RedisClient,
} from '@podium/redis';

/** Injection token of the app's own prom-client registry (one per app, so tests can run several). */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

/** A registry for code that runs without the metrics module (a bench, a script): counts go nowhere. */
export function registryOrPrivate(registry: Registry | undefined): Registry {
  return registry ?? new Registry();
}

/** Something whose reconnects and connection state are worth a metric. */
export interface ConnectionSource {
  reconnects(): number;
  connected(): boolean;
}

/**
 * Redis connection health as metrics, read when Prometheus scrapes (nothing on the hot
 * path): podium_redis_reconnects_total and podium_redis_connected, by connection.
 */
export class RedisMetrics {
  private readonly sources = new Map<string, ConnectionSource>();

  constructor(private readonly registry: Registry) {
    const sources = this.sources;
    new Counter({
      name: 'podium_redis_reconnects_total',
      help: 'Times a Redis connection of this process started reconnecting.',
      labelNames: ['connection'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [connection, source] of sources)
          this.inc({ connection }, source.reconnects());
      },
    });
    new Gauge({
      name: 'podium_redis_connected',
      help: '1 while the Redis connection is ready, else 0.',
      labelNames: ['connection'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [connection, source] of sources)
          this.set({ connection }, source.connected() ? 1 : 0);
      },
    });
  }

  /**
   * podium_redis_connections_replaced_total: connections dropped and made again by podium,
   * by connection name and reason (silent: the heartbeat went unanswered).
   */
  trackLiveness(liveness: ConnectionLiveness): void {
    new Counter({
      name: 'podium_redis_connections_replaced_total',
      help: 'Redis connections this process dropped and made again, by connection and reason (silent: answered nothing, a heartbeat PING sent, for REDIS_LIVENESS_TIMEOUT_MS).',
      labelNames: ['connection', 'reason'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { connection, reason, count } of liveness.replaced())
          this.inc({ connection, reason }, count);
      },
    });
  }

  track(connection: string, source: ConnectionSource): void {
    this.sources.set(connection, source);
  }

  /** Counts an ioredis connection's reconnects from its events. */
  trackRedis(connection: string, redis: RedisClient): void {
    let reconnects = 0;
    redis.on('reconnecting', () => reconnects++);
    this.track(connection, {
      reconnects: () => reconnects,
      connected: () => redis.status === 'ready',
    });
  }
}

@ApiTags('operations')
@Controller()
export class MetricsController {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  @Get('metrics')
  @ApiOperation({
    summary: 'Prometheus metrics of this process (text exposition format)',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Metrics in the Prometheus text format',
    schema: { type: 'string' },
  })
  async metrics(@Res() res: Response): Promise<void> {
    const text = await this.registry.metrics();
    res.status(200).type(this.registry.contentType).send(text);
  }
}

/**
 * podium's registry (the one PodiumModule's options give, or a private one) and the Redis
 * connection metrics of the shared command connection. PodiumModule brings it.
 */
@Global()
@Module({})
export class PodiumMetricsModule {
  static forRoot(registry?: {
    inject: InjectionToken[];
    useFactory: (...deps: never[]) => Registry | undefined;
  }): DynamicModule {
    return {
      module: PodiumMetricsModule,
      providers: [
        {
          provide: METRICS_REGISTRY,
          inject: registry?.inject ?? [],
          useFactory: (...deps: never[]) =>
            registry?.useFactory(...deps) ?? new Registry(),
        },
        {
          provide: RedisMetrics,
          inject: [
            METRICS_REGISTRY,
            { token: REDIS, optional: true },
            { token: PODIUM_SETTINGS, optional: true },
          ],
          useFactory: (
            registry: Registry,
            redis?: RedisClient,
            env?: PodiumSettings,
          ) => {
            const metrics = new RedisMetrics(registry);
            if (redis) metrics.trackRedis('command', redis);
            if (env) metrics.trackLiveness(livenessOf(env.redisTarget));
            return metrics;
          },
        },
      ],
      exports: [METRICS_REGISTRY, RedisMetrics],
    };
  }
}

/**
 * /metrics (the podium apps'): the registry PodiumModule uses, with Node's process metrics
 * (process_*, nodejs_*) added to it.
 */
@Module({ controllers: [MetricsController] })
export class MetricsModule implements OnModuleInit {
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}

  onModuleInit(): void {
    collectDefaultMetrics({ register: this.registry });
  }
}

/**
 * Express middleware: podium_http_requests_total and podium_http_request_duration_seconds
 * by method, route template (not the raw URL, so ids do not explode the label set) and status.
 */
export function httpMetricsMiddleware(registry: Registry) {
  const requests = new Counter({
    name: 'podium_http_requests_total',
    help: 'HTTP requests answered, by method, route and status code.',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'podium_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route.',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return (req: Request, res: Response, next: NextFunction): void => {
    const start = process.hrtime.bigint();
    res.once('finish', () => {
      // Express's route path: a string, or a RegExp for a pattern route.
      const path = (req.route as { path?: string | RegExp } | undefined)?.path;
      const route = path
        ? `${req.baseUrl}${String(path)}`
        : req.baseUrl || 'unmatched';
      const labels = { method: req.method, route };
      requests.inc({ ...labels, status: String(res.statusCode) });
      duration.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };
}
