import type {
  INestApplication,
  LoggerService,
  ModuleMetadata,
  NestApplicationOptions,
} from '@nestjs/common';
import {
  Test,
  type TestingModule,
  type TestingModuleBuilder,
} from '@nestjs/testing';
import type { Redis } from 'ioredis';
import type { Server } from 'node:http';
import request from 'supertest';
import { validatePodiumEnv, type PodiumEnv } from '@podium/core';
import { PrivateRedis } from './private-redis.js';
import { testLogger } from './test-logger.js';

export interface HttpModuleOptions {
  /** The modules under test and what they need from their app (configuration, Redis...), given the validated environment. */
  imports: (env: PodiumEnv) => NonNullable<ModuleMetadata['imports']>;
  /** A private Redis to share between the tests of a file; without it, one is started and destroyed by close(). */
  redis?: PrivateRedis;
  /** Settings, as environment variables; REDIS_URL is the private Redis's. */
  env?: Record<string, string>;
  /** Nest's logger for the app; errors and warnings to the console by default, false for none. */
  logger?: LoggerService | false;
  /** Changes before the module compiles: `(b) => b.overrideProvider(X).useValue(y)`. */
  override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
  /** The app's HTTP set-up (body parser, pipes, filters), before init, as its bootstrap does it. */
  configure?: (app: INestApplication) => void;
  appOptions?: NestApplicationOptions;
}

export interface HttpModuleTest {
  module: TestingModule;
  app: INestApplication;
  env: PodiumEnv;
  server: PrivateRedis;
  /** A client of the private Redis for the test's own reads and writes. */
  redis: Redis;
  /** supertest on the app: `http().get('/events').expect(200)`. */
  http(): ReturnType<typeof request>;
  close(): Promise<void>;
}

/**
 * Boots HTTP modules on their own with @nestjs/testing on a private Redis: the module
 * under test with only what it imports, not the whole app. The app is initialised, not
 * listening: supertest serves it.
 */
export async function startHttpModule(
  options: HttpModuleOptions,
): Promise<HttpModuleTest> {
  const server = options.redis ?? (await PrivateRedis.start());
  const owned = !options.redis;
  let app: INestApplication | undefined;
  try {
    const env = validatePodiumEnv({ ...options.env, REDIS_URL: server.url });
    let builder = Test.createTestingModule({
      imports: options.imports(env),
    }).setLogger(testLogger(options.logger));
    if (options.override) builder = options.override(builder);
    const module = await builder.compile();
    app = module.createNestApplication({
      abortOnError: false,
      ...options.appOptions,
    });
    options.configure?.(app);
    await app.init();
    const redis = server.client();
    const started = app;
    return {
      module,
      app,
      env,
      server,
      redis,
      http: () => request(started.getHttpServer() as Server),
      close: async () => {
        await redis.quit().catch(() => undefined);
        await started.close();
        if (owned) await server.destroy();
      },
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    if (owned) await server.destroy();
    throw err;
  }
}
