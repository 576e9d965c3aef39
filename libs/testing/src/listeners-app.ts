import type { INestMicroservice, LoggerService, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { validatePodiumEnv } from '@podium/config';
import { PodiumListenersModule, PurchaseTransport } from '@podium/delivery';

export interface ListenersAppOptions {
  redisUrl: string;
  /** The listener modules under test. */
  listeners: Type[];
  /** More settings, as environment variables (LISTENERS, HISTOGRAM_ENCODING, ...). */
  env?: Record<string, string>;
  /** Where the app logs; by default errors, warnings and logs go to the console. */
  logger?: LoggerService | false;
}

export interface RunningListenersApp {
  app: INestMicroservice;
  transport: PurchaseTransport;
  close(): Promise<void>;
}

/**
 * Starts a real listeners microservice on the Redis transport, hosting the given listener
 * modules, and resolves once it is subscribed: announcements made after this are heard.
 */
export async function startListenersApp({ redisUrl, listeners, env = {}, logger }: ListenersAppOptions): Promise<RunningListenersApp> {
  const config = validatePodiumEnv({ ...env, REDIS_URL: redisUrl });
  const transport = new PurchaseTransport(redisUrl);
  const moduleRef = await Test.createTestingModule({
    imports: [PodiumListenersModule.forRoot({ env: config, transport, listeners })],
  }).compile();
  const app = moduleRef.createNestMicroservice({ strategy: transport, logger: logger ?? ['error', 'warn', 'log'] });
  try {
    await app.listen();
    await transport.whenSubscribed();
  } catch (err) {
    await app.close().catch(() => undefined); // a failed start must not leave connections open
    throw err;
  }
  return { app, transport, close: () => app.close() };
}
