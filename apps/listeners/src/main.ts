import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { exitCleanlyOnSignals, validatePodiumEnv } from '@podium/config';
import { PodiumListenersModule, PurchaseTransport } from '@podium/delivery';
import { LISTENER_MODULES } from '@podium/listeners';

/** The listeners process: a Nest microservice on the Redis transport. */
const logger = new Logger('Listeners');

async function bootstrap(): Promise<void> {
  const env = validatePodiumEnv(process.env);
  const transport = new PurchaseTransport(env.REDIS_URL);
  const app = await NestFactory.createMicroservice(
    PodiumListenersModule.forRoot({ env, transport, listeners: LISTENER_MODULES }),
    { strategy: transport },
  );
  exitCleanlyOnSignals(app, logger);
  await app.listen();
}

bootstrap().catch((err: Error) => {
  logger.error(`Cannot start: ${err.message}`);
  process.exit(1);
});
