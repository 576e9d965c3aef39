import type {
  INestApplication,
  LoggerService,
  LogLevel,
  Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Telemetry } from 'bullmq';
import type { DestinationStream } from 'pino';
import type { PodiumEnv } from '../config/index.js';
import {
  configureObservability,
  nestLogLevels,
  PinoNestLogger,
} from '../observability/index.js';
import { PodiumListenersModule } from './podium-listeners.module.js';
import { AnnouncementTransport } from '../delivery/index.js';

export interface ListenersApplicationOptions {
  env: PodiumEnv;
  /** Listener modules to host; LISTENERS in env picks which of them run. */
  listeners: Type[];
  /** The Redis transport; one is made from env's Redis target when not given. */
  transport?: AnnouncementTransport;
  /** A Nest logger instead of the one LOG_FORMAT and LOG_LEVEL choose (tests: a CapturedLogger, or false). */
  logger?: LoggerService | LogLevel[] | false;
  /** With LOG_FORMAT=json: where the lines go instead of stdout. */
  logDestination?: DestinationStream;
  /** BullMQ's telemetry for the queues and workers (see PodiumModule's `queue.telemetry`). */
  queueTelemetry?: Telemetry;
}

export interface ListenersApplication {
  /** A hybrid app: the Redis transport as its microservice, HTTP for /health, /metrics and /docs. */
  app: INestApplication;
  transport: AnnouncementTransport;
}

/**
 * The listeners process as main.ts and the tests build it: a Nest HTTP app with the Redis
 * transport connected as its microservice. Resolves once the listeners are subscribed
 * (announcements made after this are heard); the HTTP side is not listening yet: call
 * app.listen(port) for that (supertest works without).
 */
export async function createListenersApplication(
  options: ListenersApplicationOptions,
): Promise<ListenersApplication> {
  const { env, listeners, logger, logDestination, queueTelemetry } = options;
  const json = logger === undefined && env.LOG_FORMAT === 'json';
  const app = await NestFactory.create(
    PodiumListenersModule.forRoot({
      env,
      transport: options.transport,
      listeners,
      logDestination,
      queueTelemetry,
    }),
    {
      abortOnError: false,
      bufferLogs: json,
      logger: json ? undefined : (logger ?? nestLogLevels(env.LOG_LEVEL)),
    },
  );
  const transport = app.get(AnnouncementTransport);
  try {
    if (json) app.useLogger(app.get(PinoNestLogger));
    // The handlers are bound in onModuleInit (ListenerRegistrar), so init comes before the
    // transport starts listening and subscribes to their patterns.
    app.connectMicroservice(
      { strategy: transport },
      { inheritAppConfig: true },
    );
    configureObservability(app, {
      title: 'podium listeners',
      description:
        'The listeners process: health probes and Prometheus metrics. Listeners themselves speak Redis pub/sub.',
    });
    await app.init();
    await app.startAllMicroservices();
    await transport.whenSubscribed();
  } catch (err) {
    await app.close().catch(() => undefined); // a failed start must not leave connections open
    throw err;
  }
  return { app, transport };
}
