import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger, type Type } from '@nestjs/common';
import {
  exitCleanlyOnSignals,
  validatePodiumEnv,
  createListenersApplication,
  escapeLogText,
  prettyLogger,
} from '@podium/core';
import { olympicsSettingsFromEnv } from '@podium/orders';
import { queueTelemetry, stopTracing } from '../../tracing.js';

const logger = new Logger('Listeners');

/**
 * The listeners process, hosting these listener modules: Nest's Redis transport, plus HTTP
 * on HEALTH_PORT for /health/live, /health/ready, /metrics and /docs. Configuration from
 * the environment; a process that cannot start says why in one line and exits 1.
 */
export function runListenersProcess(listeners: Type[]): void {
  start(listeners).catch((err: Error) => {
    logger.error(`Cannot start: ${escapeLogText(err.message)}`);
    process.exit(1);
  });
}

async function start(listeners: Type[]): Promise<void> {
  const env = validatePodiumEnv(process.env);
  olympicsSettingsFromEnv(process.env); // a bad HISTOGRAM_ENCODING stops start-up here, in one line
  // Pretty logs escape what they print from data, as JSON logs do (SafeConsoleLogger).
  const appLogger =
    env.LOG_FORMAT === 'json' ? undefined : prettyLogger(env.LOG_LEVEL);
  const { app, transport } = await createListenersApplication({
    env,
    listeners,
    logger: appLogger,
    queueTelemetry: queueTelemetry(),
  });
  exitCleanlyOnSignals(app, logger, { beforeExit: stopTracing });
  await app.listen(env.HEALTH_PORT, '0.0.0.0');
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  logger.log(
    `Listeners process ready: subscribed to ${transport.patterns().join(', ')}; health and metrics on port ${port}`,
  );
}
