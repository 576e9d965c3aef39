import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { validatePodiumEnv } from '@podium/config';
import { BoxOfficeModule } from '../../apps/box-office/src/box-office.module.js';
import { configureHttp } from '../../apps/box-office/src/configure-http.js';

/** The box office app as main.ts builds it, on a test's private Redis, not listening on a port. */
export async function startBoxOffice(redisUrl: string, env: Record<string, string> = {}): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [BoxOfficeModule.forRoot(validatePodiumEnv({ ...env, REDIS_URL: redisUrl }))],
  }).compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: ['error', 'warn'] });
  configureHttp(app);
  await app.init();
  return app;
}
