import {
  Module,
  type DynamicModule,
  type INestApplication,
} from '@nestjs/common';
import type { DestinationStream } from 'pino';
import type { Registry } from 'prom-client';
import type { PodiumEnv } from '../config/index.js';
import { HealthModule } from './health.js';
import { jsonLoggingModule } from './logging.js';
import {
  httpMetricsMiddleware,
  METRICS_REGISTRY,
  MetricsModule,
} from './metrics.js';
import { setupOpenApi, type OpenApiOptions } from './openapi.js';

export interface ObservabilityOptions {
  /** The process's name in JSON logs: box-office, listeners. */
  app: string;
  env: PodiumEnv;
  /** JSON logs go here instead of stdout (tests). */
  logDestination?: DestinationStream;
}

/**
 * The podium apps' /health, /metrics and, with LOG_FORMAT=json, nestjs-pino: what an operator
 * watches, on the registry and the readiness checks PodiumModule brings.
 */
@Module({})
export class ObservabilityModule {
  static forRoot({
    app,
    env,
    logDestination,
  }: ObservabilityOptions): DynamicModule {
    return {
      module: ObservabilityModule,
      imports: [
        MetricsModule,
        HealthModule,
        ...(env.LOG_FORMAT === 'json'
          ? [jsonLoggingModule(env, { app, destination: logDestination })]
          : []),
      ],
    };
  }
}

/** The HTTP side, once the app exists (before init): request metrics and the OpenAPI docs. */
export function configureObservability(
  app: INestApplication,
  openApi: OpenApiOptions,
): void {
  app.use(httpMetricsMiddleware(app.get<Registry>(METRICS_REGISTRY)));
  setupOpenApi(app, openApi);
}
