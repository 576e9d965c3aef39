import type { Type } from '@nestjs/common';
import {
  OPERATOR_ENV,
  startHttpModule,
  type HttpModuleOptions,
  type HttpModuleTest,
} from '@podium/testing';
import { boxOfficeInfrastructure } from './box-office.module.js';
import { configureHttpEdge } from './configure-http.js';

export type BoxOfficeModuleOptions = Omit<
  HttpModuleOptions,
  'imports' | 'configure' | 'appOptions'
>;

/**
 * One of the box office's feature modules (or a few) on its own, with @nestjs/testing: the
 * infrastructure every feature relies on (configuration, Redis, observability, the rate
 * limiter), the HTTP edge main.ts puts in front (body limits, validation, error bodies),
 * on a private Redis, with the operator credentials of OPERATOR_ENV unless `env` sets others.
 */
export function startBoxOfficeModule(
  features: Type[],
  options: BoxOfficeModuleOptions = {},
): Promise<HttpModuleTest> {
  return startHttpModule({
    ...options,
    env: { ...OPERATOR_ENV, ...options.env },
    imports: (env) => [...boxOfficeInfrastructure(env), ...features],
    configure: configureHttpEdge,
    appOptions: { bodyParser: false },
  });
}
