import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { validatePodiumEnv } from '@podium/config';
import { PodiumListenersModule, PurchaseTransport } from '@podium/delivery';
import { LISTENER_MODULES } from '@podium/listeners';

/** The listeners process: a Nest microservice on the Redis transport. */
async function bootstrap(): Promise<void> {
  const env = validatePodiumEnv(process.env);
  const transport = new PurchaseTransport(env.REDIS_URL);
  const app = await NestFactory.createMicroservice(
    PodiumListenersModule.forRoot({ env, transport, listeners: LISTENER_MODULES }),
    { strategy: transport },
  );
  app.enableShutdownHooks();
  await app.listen();
}

bootstrap().catch((err: Error) => {
  new Logger('Listeners').error(`Cannot start: ${err.message}`);
  process.exit(1);
});
