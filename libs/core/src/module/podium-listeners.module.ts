import { Module, type DynamicModule, type Type } from '@nestjs/common';
import type { Telemetry } from 'bullmq';
import type { DestinationStream } from 'pino';
import { PodiumConfigModule, PodiumEnv } from '../config/index.js';
import { podiumOptionsFromEnv } from './podium-options.js';
import { PodiumModule } from './podium.module.js';
import { ObservabilityModule } from '../observability/index.js';
import type { AnnouncementTransport } from '../delivery/index.js';

export interface PodiumListenersOptions {
  env: PodiumEnv;
  /** The microservice's transport strategy (see AnnouncementTransport); made from env's Redis target when not given. */
  transport?: AnnouncementTransport;
  /** Listener modules to host; LISTENERS in env picks which of them run. */
  listeners: Type[];
  /** With LOG_FORMAT=json: where the lines go instead of stdout. */
  logDestination?: DestinationStream;
  /** BullMQ's telemetry for the queues and workers (PodiumModule's `queue.telemetry`). */
  queueTelemetry?: Telemetry;
}

/**
 * The podium listeners app's root module: PodiumModule (listening only) configured from the
 * environment, the listener modules, and /health, /metrics and JSON logs (served when the
 * app is a hybrid HTTP app, see createListenersApplication; a plain microservice just keeps
 * the counters).
 */
@Module({})
export class PodiumListenersModule {
  static forRoot({
    env,
    transport,
    listeners,
    logDestination,
    queueTelemetry,
  }: PodiumListenersOptions): DynamicModule {
    const options = podiumOptionsFromEnv(env);
    if (queueTelemetry)
      options.queue = { ...options.queue, telemetry: queueTelemetry };
    return {
      module: PodiumListenersModule,
      imports: [
        PodiumConfigModule.forRoot(env),
        PodiumModule.forRoot(options, {
          publish: false,
          transport,
          connectionName: 'podium-listeners',
        }),
        ObservabilityModule.forRoot({ app: 'listeners', env, logDestination }),
        ...listeners,
      ],
    };
  }
}
