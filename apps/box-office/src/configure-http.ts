import { BadRequestException, ValidationPipe, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { PodiumEnv } from '@podium/config';
import { configureObservability } from '@podium/observability';
import { BodyErrorFilter } from './body-error.filter.js';
import { QueueDashboard } from './dashboard/queue-dashboard.js';

/** Largest JSON body the box office reads; a larger one gets 413. */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * The HTTP edge, shared by main.ts and the e2e tests so that both see the same app:
 * request metrics, the client address behind TRUST_PROXY proxies, a body size limit,
 * validated DTOs (unknown fields refused), no stack traces, the queue dashboard behind
 * basic authentication, and the OpenAPI docs.
 */
export function configureHttp(app: INestApplication): void {
  const express = app as NestExpressApplication;
  const env = app.get(PodiumEnv);
  configureObservability(app, {
    title: 'podium box office',
    description:
      'Records ticket purchases once and announces them over Redis pub/sub; reads what the listeners computed. ' +
      'Every error answers {statusCode, message, error}, never a stack trace.',
  });
  // The rate limit counts per client IP address: behind N proxies, the Nth address from the right of X-Forwarded-For.
  express.set('trust proxy', env.TRUST_PROXY);
  express.useBodyParser('json', { limit: MAX_BODY_BYTES });
  app.get(QueueDashboard).mount(app);
  app.useGlobalFilters(new BodyErrorFilter(app.getHttpAdapter(), MAX_BODY_BYTES));
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      // Every message names its field: "qty must be an integer number".
      exceptionFactory: (errors) =>
        new BadRequestException(errors.flatMap((e) => Object.values(e.constraints ?? { [e.property]: `${e.property} is invalid` }))),
    }),
  );
}
