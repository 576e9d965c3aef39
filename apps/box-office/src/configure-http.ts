import { BadRequestException, ValidationPipe, type INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { BodyErrorFilter } from './body-error.filter.js';

/** Largest JSON body the box office reads; a larger one gets 413. */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * The HTTP edge, shared by main.ts and the e2e tests so that both see the same app:
 * validated DTOs (unknown fields refused), a body size limit, no stack traces.
 */
export function configureHttp(app: INestApplication): void {
  (app as NestExpressApplication).useBodyParser('json', { limit: MAX_BODY_BYTES });
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
