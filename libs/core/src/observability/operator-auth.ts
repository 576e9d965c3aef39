import {
  applyDecorators,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiForbiddenResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { PodiumEnv } from '../config/index.js';
import { BasicCredentials } from './basic-auth.js';
import { ErrorResponse, OPERATOR_SECURITY } from './openapi.js';

const CHALLENGE = 'Basic realm="podium operator", charset="UTF-8"';
/** 403: no credentials configured, so nobody may use the operator endpoints. */
export const OPERATOR_NOT_CONFIGURED =
  'operator endpoints are off: set OPERATOR_USER and OPERATOR_PASSWORD to use them';
/** 401: credentials configured, but missing or wrong in the request. */
export const OPERATOR_CREDENTIALS_REQUIRED =
  'operator credentials required (HTTP basic authentication)';

export type OperatorVerdict = 'allowed' | 'unauthorized' | 'not-configured';

/** Who may use the operator endpoints: whoever sends OPERATOR_USER and OPERATOR_PASSWORD. */
export class OperatorAccess {
  private constructor(
    private readonly credentials: BasicCredentials | undefined,
  ) {}

  static fromEnv(env: PodiumEnv): OperatorAccess {
    const { OPERATOR_USER: user, OPERATOR_PASSWORD: password } = env;
    return new OperatorAccess(
      user && password ? new BasicCredentials(user, password) : undefined,
    );
  }

  get configured(): boolean {
    return this.credentials !== undefined;
  }

  check(authorization: string | undefined): OperatorVerdict {
    if (!this.credentials) return 'not-configured';
    return this.credentials.matches(authorization) ? 'allowed' : 'unauthorized';
  }
}

/**
 * Express middleware for operator pages served outside Nest's router (bull-board at
 * /queues): `app.use(path, operatorAuth(env), handler)`. Answers like OperatorAuthGuard.
 */
export function operatorAuth(env: PodiumEnv) {
  const access = OperatorAccess.fromEnv(env);
  return (req: Request, res: Response, next: NextFunction): void => {
    switch (access.check(req.headers.authorization)) {
      case 'allowed':
        return next();
      case 'not-configured':
        res.status(403).json({
          statusCode: 403,
          message: OPERATOR_NOT_CONFIGURED,
          error: 'Forbidden',
        });
        return;
      case 'unauthorized':
        res.status(401).set('WWW-Authenticate', CHALLENGE).json({
          statusCode: 401,
          message: OPERATOR_CREDENTIALS_REQUIRED,
          error: 'Unauthorized',
        });
    }
  };
}

/**
 * Lets a request through only with the operator's credentials: 401 with a basic
 * authentication challenge when they are missing or wrong, 403 naming OPERATOR_USER and
 * OPERATOR_PASSWORD when none are configured. Use it through @OperatorOnly().
 */
@Injectable()
export class OperatorAuthGuard implements CanActivate {
  private readonly access: OperatorAccess;

  constructor(env: PodiumEnv) {
    this.access = OperatorAccess.fromEnv(env);
  }

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    switch (
      this.access.check(http.getRequest<Request>().headers.authorization)
    ) {
      case 'allowed':
        return true;
      case 'not-configured':
        throw new ForbiddenException(OPERATOR_NOT_CONFIGURED);
      case 'unauthorized':
        http.getResponse<Response>().setHeader('WWW-Authenticate', CHALLENGE);
        throw new UnauthorizedException(OPERATOR_CREDENTIALS_REQUIRED);
    }
  }
}

/** Marks a route or controller as operator only (guard and OpenAPI): one line per endpoint. */
export const OperatorOnly = () =>
  applyDecorators(
    UseGuards(OperatorAuthGuard),
    ApiBasicAuth(OPERATOR_SECURITY),
    ApiUnauthorizedResponse({
      type: ErrorResponse,
      description:
        'Missing or wrong operator credentials (OPERATOR_USER, OPERATOR_PASSWORD)',
    }),
    ApiForbiddenResponse({
      type: ErrorResponse,
      description:
        'No operator credentials are configured: set OPERATOR_USER and OPERATOR_PASSWORD',
    }),
  );
