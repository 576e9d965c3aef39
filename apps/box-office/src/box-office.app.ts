import type { LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Telemetry } from 'bullmq';
import type { DestinationStream } from 'pino';
import { type PodiumEnv, PinoNestLogger, prettyLogger } from '@podium/core';
import { BoxOfficeModule } from './box-office.module.js';
import { configureHttp } from './configure-http.js';

export interface BoxOfficeAppOptions {
  /** A Nest logger instead of the one LOG_FORMAT and LOG_LEVEL choose (tests). */
  logger?: LoggerService | LogLevel[] | false;
  /** With LOG_FORMAT=json: where the lines go instead of stdout. */
  logDestination?: DestinationStream;
  /** BullMQ's telemetry for the durable groups' queues (PodiumModule's `queue.telemetry`). */
  queueTelemetry?: Telemetry;
}

/** The box office as main.ts and the tests build it, initialised but not listening yet. */
export async function createBoxOfficeApp(
  env: PodiumEnv,
  { logger, logDestination, queueTelemetry }: BoxOfficeAppOptions = {},
): Promise<NestExpressApplication> {
  const json = logger === undefined && env.LOG_FORMAT === 'json';
  const app = await NestFactory.create<NestExpressApplication>(
    BoxOfficeModule.forRoot(env, { logDestination, queueTelemetry }),
    {
      bodyParser: false,
      abortOnError: false,
      bufferLogs: json,
      logger: json ? undefined : (logger ?? prettyLogger(env.LOG_LEVEL)),
    },
  );
  try {
    if (json) app.useLogger(app.get(PinoNestLogger));
    configureHttp(app);
    await app.init();
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  return app;
}
