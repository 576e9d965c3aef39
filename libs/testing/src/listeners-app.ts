import type { INestApplication, LoggerService, Type } from '@nestjs/common';
import type { Telemetry } from 'bullmq';
import type { DestinationStream } from 'pino';
import {
  validatePodiumEnv,
  createListenersApplication,
  AnnouncementTransport,
} from '@podium/core';

export interface ListenersAppOptions {
  redisUrl: string;
  /** The listener modules under test. */
  listeners: Type[];
  /** More settings, as environment variables (LISTENERS, HISTOGRAM_ENCODING, ...). */
  env?: Record<string, string>;
  /** Where the app logs; by default errors, warnings and logs go to the console. */
  logger?: LoggerService | false;
  /** With env LOG_FORMAT=json and no logger: where the JSON lines go. */
  logDestination?: DestinationStream;
  /** Listen on a free port of 127.0.0.1 (the app's `url`); supertest needs none of this. */
  listen?: boolean;
  /** BullMQ's telemetry for its queues and workers (bullmq-otel's BullMQOtel), to trace their jobs. */
  queueTelemetry?: Telemetry;
}

export interface RunningListenersApp {
  /** The hybrid app main.ts runs: the Redis transport plus HTTP (/health, /metrics, /docs). */
  app: INestApplication;
  transport: AnnouncementTransport;
  /** http://127.0.0.1:<port> when started with `listen: true`. */
  url?: string;
  close(): Promise<void>;
}

/**
 * Starts a real listeners app on the Redis transport, hosting the given listener modules,
 * built as main.ts builds it, and resolves once it is subscribed: announcements made after
 * this are heard.
 */
export async function startListenersApp({
  redisUrl,
  listeners,
  env = {},
  logger,
  logDestination,
  listen,
  queueTelemetry,
}: ListenersAppOptions): Promise<RunningListenersApp> {
  const config = validatePodiumEnv({ ...env, REDIS_URL: redisUrl });
  const useJson = logger === undefined && config.LOG_FORMAT === 'json';
  const { app, transport } = await createListenersApplication({
    env: config,
    listeners,
    // Levels, not a logger instance: an instance would replace Nest's process-wide logger,
    // and another app's CapturedLogger in the same test file would stop hearing its app.
    logger: useJson ? undefined : (logger ?? ['error', 'warn', 'log']),
    logDestination,
    queueTelemetry,
  });
  let url: string | undefined;
  if (listen) {
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  }
  return { app, transport, url, close: () => app.close() };
}
