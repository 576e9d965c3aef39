import {
  BadRequestException,
  ValidationPipe,
  type INestApplication,
} from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { PodiumEnv, configureObservability } from '@podium/core';
import { QueueDashboard } from './dashboard/queue-dashboard.js';
import { BodyErrorFilter } from './input/body-error.filter.js';
import { jsonBodyOptions } from './input/json-body.js';
import { KnownFieldsPipe } from './input/known-fields.pipe.js';
import { RedisUnavailableFilter } from './redis-unavailable.filter.js';
import { DrainingGate } from './shutdown/draining-gate.js';

export { MAX_BODY_BYTES, MAX_JSON_DEPTH } from './input/json-body.js';

/**
 * The box office's HTTP set-up, shared by main.ts and the e2e tests so that both see the
 * same app: request metrics and the OpenAPI docs, the HTTP edge (see configureHttpEdge),
 * and the queue dashboard for the operator.
 */
export function configureHttp(app: INestApplication): void {
  configureObservability(app, {
    title: 'podium box office',
    description:
      'Records ticket purchases once and announces them over Redis pub/sub; reads what the listeners computed. ' +
      'Endpoints that change configuration or replay work need the operator credentials (HTTP basic authentication). ' +
      'Every error answers {statusCode, message, error}, never a stack trace.',
  });
  // First of all: once the app is stopping, new requests are refused (see DrainingGate).
  (app as NestExpressApplication).use(app.get(DrainingGate).middleware);
  configureHttpEdge(app);
  app.get(QueueDashboard).mount(app);
}

/**
 * The HTTP edge every feature module sits behind (the module tests use it too): the client
 * address behind TRUST_PROXY proxies, a body size and nesting limit, validated DTOs
 * (unknown fields refused, prototype-ish keys included), no stack traces. The app is
 * created with `bodyParser: false`.
 */
export function configureHttpEdge(app: INestApplication): void {
  const express = app as NestExpressApplication;
  const env = app.get(PodiumEnv);
  // The rate limit counts per client IP address: behind N proxies, the Nth address from the right of X-Forwarded-For.
  express.set('trust proxy', env.TRUST_PROXY);
  express.useBodyParser('json', jsonBodyOptions());
  // Nest tries the last one first: body errors, then Redis being unavailable, then its own 500.
  app.useGlobalFilters(
    new RedisUnavailableFilter(app.getHttpAdapter()),
    new BodyErrorFilter(app.getHttpAdapter()),
  );
  app.useGlobalPipes(
    // First: it sees the parsed JSON before the ValidationPipe drops keys it cannot report.
    new KnownFieldsPipe(),
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      // Every message names its field: "qty must be an integer number".
      exceptionFactory: (errors) =>
        new BadRequestException(
          errors.flatMap((e) =>
            Object.values(
              e.constraints ?? { [e.property]: `${e.property} is invalid` },
            ),
          ),
        ),
    }),
  );
}
