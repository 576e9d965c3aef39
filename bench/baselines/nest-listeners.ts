/**
 * Baseline (b): the seed's handlers on a plain Nest microservice with the Redis transport
 * (Transport.REDIS, wildcards: true): one @EventPattern controller per listener, one shared
 * ioredis command connection, no podium. Nest runs each message's handlers as it arrives,
 * concurrently.
 */
import 'reflect-metadata';
import { Controller, Inject, Module, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  EventPattern,
  Payload,
  Transport,
  type MicroserviceOptions,
  type ServerRedis,
} from '@nestjs/microservices';
import { Redis } from 'ioredis';
import { redisOptionsFromUrl } from '@podium/redis';
import { listenerNames } from '../lib/model.js';
import { childConfig, Sampler } from '../processes/sampler.js';
import { seedListeners, type SeedListener } from './seed-handlers.js';

const config = childConfig();
const sampler = new Sampler(listenerNames(config.variant));
const REDIS = Symbol('REDIS');
const handlers = new Map(seedListeners(config.variant).map((l) => [l.name, l]));

async function handle(
  listener: SeedListener,
  redis: Redis,
  orderId: unknown,
): Promise<void> {
  const id = String(orderId);
  try {
    if (await listener.handle(redis, id)) sampler.record(listener.name, id);
  } catch (err) {
    sampler.errors++;
    console.error(`[${listener.name}] order ${id}: ${(err as Error).message}`);
  }
}

/** One controller class per listener; the decorator needs its pattern at class definition. */
function controllerFor(listener: SeedListener): Type {
  const pattern = listener.channel ?? listener.pattern!;
  @Controller()
  class ListenerController {
    constructor(@Inject(REDIS) private readonly redis: Redis) {}

    @EventPattern(pattern)
    onOrder(@Payload() orderId: unknown): Promise<void> {
      return handle(listener, this.redis, orderId);
    }
  }
  Object.defineProperty(ListenerController, 'name', {
    value: `${listener.name}-controller`,
  });
  return ListenerController;
}

async function main(): Promise<void> {
  const options = redisOptionsFromUrl(config.redisUrl);
  const redis = new Redis({ ...options, connectionName: 'nest-baseline' });
  @Module({
    controllers: [...handlers.values()].map(controllerFor),
    providers: [{ provide: REDIS, useValue: redis }],
  })
  class NestBaselineModule {}

  let reconnects = 0;
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(
    NestBaselineModule,
    {
      transport: Transport.REDIS,
      options: {
        host: options.host,
        port: options.port,
        wildcards: true,
        retryAttempts: 1_000_000,
        retryDelay: 100,
      },
    },
  );
  await app.listen();
  const [, sub] = (
    app as unknown as { serverInstance: ServerRedis }
  ).serverInstance.unwrap<[Redis, Redis]>();
  sub.on('reconnecting', () => reconnects++);
  await sub.ping(); // answered after the PSUBSCRIBEs
  sampler.start({
    reconnects: () => reconnects,
    onStop: async () => {
      await app.close();
      await redis.quit();
    },
  });
}

main().catch((err: Error) => {
  console.error(
    `bench nest listeners: cannot start: ${err.stack ?? err.message}`,
  );
  process.exit(1);
});
