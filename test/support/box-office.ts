import type { LoggerService } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Telemetry } from 'bullmq';
import type { DestinationStream } from 'pino';
import { validatePodiumEnv } from '@podium/core';
import { OPERATOR_ENV } from '@podium/testing';
import { createBoxOfficeApp } from '../../apps/box-office/src/box-office.app.js';

export interface BoxOfficeTestOptions {
  /** Errors and warnings to the console unless given. */
  logger?: LoggerService | false;
  /** With env LOG_FORMAT=json and no logger: where the JSON lines go. */
  logDestination?: DestinationStream;
  /** BullMQ's telemetry for the durable groups' queues, to trace their jobs. */
  queueTelemetry?: Telemetry;
}

/**
 * The box office app as main.ts builds it, on a test's private Redis, not listening on a
 * port, with the operator credentials of OPERATOR_ENV unless `env` sets others (or empties them).
 */
export async function startBoxOffice(
  redisUrl: string,
  env: Record<string, string> = {},
  { logger, logDestination, queueTelemetry }: BoxOfficeTestOptions = {},
): Promise<NestExpressApplication> {
  const config = validatePodiumEnv({
    ...OPERATOR_ENV,
    ...env,
    REDIS_URL: redisUrl,
  });
  const json = logger === undefined && config.LOG_FORMAT === 'json';
  return createBoxOfficeApp(config, {
    logger: json ? undefined : (logger ?? ['error', 'warn']),
    logDestination,
    queueTelemetry,
  });
}
