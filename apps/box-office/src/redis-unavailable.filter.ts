import { Catch, HttpStatus, Logger, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Response } from 'express';
import {
  redactSecrets,
  redisUnavailableMessage,
  redisUnavailableReason,
} from '@podium/redis';

/** Seconds a client is asked to wait before trying again while Redis cannot serve. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * A request that needs Redis while Redis is down, too slow or refusing writes answers 503
 * with Retry-After and a message saying so, never a stack trace. The box office's
 * connection fails fast (no offline queue, a deadline per command), so this comes within
 * about two seconds, and nothing of the request runs later. Other errors get Nest's 500.
 */
@Catch()
export class RedisUnavailableFilter extends BaseExceptionFilter {
  private readonly logger = new Logger('BoxOffice');

  override catch(exception: unknown, host: ArgumentsHost): void {
    const reason = redisUnavailableReason(exception);
    if (!reason || host.getType() !== 'http')
      return super.catch(exception, host);
    this.logger.warn(
      `Redis unavailable (${reason}): ${redactSecrets((exception as Error).message)}`,
    );
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    res
      .status(HttpStatus.SERVICE_UNAVAILABLE)
      .set('Retry-After', String(RETRY_AFTER_SECONDS))
      .json({
        statusCode: 503,
        message: redisUnavailableMessage(reason),
        error: 'Service Unavailable',
      });
  }
}
