import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import {
  exitCleanlyOnSignals,
  validatePodiumEnv,
  escapeLogText,
} from '@podium/core';
import { olympicsSettingsFromEnv } from '@podium/orders';
import { queueTelemetry, stopTracing } from '../../tracing.js';
import { createBoxOfficeApp } from './box-office.app.js';

/** The box office: HTTP API that records purchases and announces them (started by main.ts). */
const logger = new Logger('BoxOffice');

async function bootstrap(): Promise<void> {
  const env = validatePodiumEnv(process.env);
  olympicsSettingsFromEnv(process.env); // a bad HISTOGRAM_ENCODING stops start-up here, in one line
  const app = await createBoxOfficeApp(env, {
    queueTelemetry: queueTelemetry(),
  });
  exitCleanlyOnSignals(app, logger, { beforeExit: stopTracing });
  await app.listen(env.PORT, '0.0.0.0');
  const { port } = app.getHttpServer().address() as { port: number };
  logger.log(`Listening on http://localhost:${port} (API docs at /docs)`);
}

bootstrap().catch((err: Error) => {
  logger.error(`Cannot start: ${escapeLogText(err.message)}`);
  process.exit(1);
});
