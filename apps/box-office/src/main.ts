import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { exitCleanlyOnSignals, validatePodiumEnv } from '@podium/config';
import { BoxOfficeModule } from './box-office.module.js';
import { configureHttp } from './configure-http.js';

/** The box office: HTTP API that records purchases and announces them. */
const logger = new Logger('BoxOffice');

async function bootstrap(): Promise<void> {
  const env = validatePodiumEnv(process.env);
  const app = await NestFactory.create<NestExpressApplication>(BoxOfficeModule.forRoot(env), { bodyParser: false });
  configureHttp(app);
  exitCleanlyOnSignals(app, logger);
  await app.listen(env.PORT, '0.0.0.0');
  logger.log(`Listening on http://localhost:${env.PORT}`);
}

bootstrap().catch((err: Error) => {
  logger.error(`Cannot start: ${err.message}`);
  process.exit(1);
});
