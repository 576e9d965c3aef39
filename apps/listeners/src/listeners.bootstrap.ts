import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { exitCleanlyOnSignals, validatePodiumEnv } from '@podium/config';
import { createListenersApplication } from '@podium/delivery';
import { LISTENER_MODULES } from '@podium/listeners';
import { escapeLogText, prettyLogger } from '@podium/observability';

/**
 * The listeners process: the listener modules on Nest's Redis transport, plus HTTP on
 * HEALTH_PORT for /health/live, /health/ready, /metrics and /docs (started by main.ts).
 */
const logger = new Logger('Listeners');

async function bootstrap(): Promise<void> {
  const env = validatePodiumEnv(process.env);
  // Pretty logs escape what they print from data, as JSON logs do (SafeConsoleLogger).
  const appLogger =
    env.LOG_FORMAT === 'json' ? undefined : prettyLogger(env.LOG_LEVEL);
  const { app, transport } = await createListenersApplication({
    env,
    listeners: LISTENER_MODULES,
    logger: appLogger,
  });
  exitCleanlyOnSignals(app, logger);
  await app.listen(env.HEALTH_PORT, '0.0.0.0');
  const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
  logger.log(
    `Listeners process ready: subscribed to ${transport.patterns().join(', ')}; health and metrics on port ${port}`,
  );
}

bootstrap().catch((err: Error) => {
  logger.error(`Cannot start: ${escapeLogText(err.message)}`);
  process.exit(1);
});
