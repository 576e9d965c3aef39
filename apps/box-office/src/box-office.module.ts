import {
  Module,
  type DynamicModule,
  type ModuleMetadata,
} from '@nestjs/common';
import type { Telemetry } from 'bullmq';
import type { DestinationStream } from 'pino';
import {
  ObservabilityModule,
  PodiumConfigModule,
  PodiumModule,
  podiumOptionsFromEnv,
  type PodiumEnv,
} from '@podium/core';
import { DashboardModule } from './dashboard/dashboard.module.js';
import { EventsModule } from './events/events.module.js';
import { ListenersModule } from './listeners/listeners.module.js';
import { LiveDashboardModule } from './live-dashboard/live-dashboard.module.js';
import { PurchasesModule } from './purchases/purchases.module.js';
import { RateLimitModule } from './rate-limit/rate-limit.js';
import { ReportsModule } from './reports/reports.module.js';
import { ShutdownModule } from './shutdown/shutdown.module.js';

/** The box office's feature modules, each a folder (tested on its own with startBoxOfficeModule). */
export const BOX_OFFICE_FEATURES = [
  EventsModule,
  PurchasesModule,
  ReportsModule,
  ListenersModule,
  DashboardModule,
  LiveDashboardModule,
];

export interface BoxOfficeOptions {
  /** With LOG_FORMAT=json: where the lines go instead of stdout. */
  logDestination?: DestinationStream;
  /** BullMQ's telemetry for the durable groups' queues (PodiumModule's `queue.telemetry`). */
  queueTelemetry?: Telemetry;
}

/**
 * What every feature module relies on: configuration, podium's publishing side (its Redis
 * connection fail-fast: a request never waits in an offline queue), observability, the rate limiter, the graceful stop (all global).
 */
export function boxOfficeInfrastructure(
  env: PodiumEnv,
  { logDestination, queueTelemetry }: BoxOfficeOptions = {},
): NonNullable<ModuleMetadata['imports']> {
  const options = podiumOptionsFromEnv(env);
  if (queueTelemetry)
    options.queue = { ...options.queue, telemetry: queueTelemetry };
  return [
    PodiumConfigModule.forRoot(env),
    PodiumModule.forRoot(options, {
      listen: false,
      connectionName: 'podium-box-office',
      failFast: true,
    }),
    ObservabilityModule.forRoot({ app: 'box-office', env, logDestination }),
    RateLimitModule,
    ShutdownModule,
  ];
}

@Module({})
export class BoxOfficeModule {
  static forRoot(
    env: PodiumEnv,
    options: BoxOfficeOptions = {},
  ): DynamicModule {
    return {
      module: BoxOfficeModule,
      imports: [
        ...boxOfficeInfrastructure(env, options),
        ...BOX_OFFICE_FEATURES,
      ],
    };
  }
}
