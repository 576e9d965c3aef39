import { Catch, HttpStatus, Logger, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Response } from 'express';
import {
  FailoverUnderWayError,
  redactSecrets,
  redisUnavailableMessage,
  redisUnavailableReason,
  UnreplicatedError,
} from '@podium/redis';
import { RateLimitUnavailableError } from './rate-limit/redis-throttler.storage.js';

/** Seconds a client is asked to wait before trying again while Redis cannot serve. */
export const RETRY_AFTER_SECONDS = 5;
/** ... and when replicas did not confirm a write in time: they catch up, or a failover ends, within about a second. */
export const UNREPLICATED_RETRY_AFTER_SECONDS = 1;

/** What a client is told when REDIS_WAIT_REPLICAS replicas did not confirm its purchase. */
export const UNREPLICATED_MESSAGE =
  'The order is recorded on the primary but not yet on its replicas: a retry with the same Idempotency-Key is safe (it returns this order once replicated, or records it again if a failover lost it)';

/** What a client is told when its purchase met a failover of the primary. */
export const FAILOVER_MESSAGE =
  'A failover of the Redis primary is under way: a retry with the same Idempotency-Key is safe (it returns this order if it was recorded, or records it once)';

/**
 * A request that needs Redis while Redis is down, too slow or refusing writes answers 503
 * with Retry-After and a message saying so, never a stack trace. The box office's
 * connection fails fast (no offline queue, a deadline per command), so this comes within
 * about two seconds, and nothing of the request runs later. So does a rate-limited request
 * whose count Redis could not keep: refused before it ran, never let through uncounted. A
 * purchase that replicas did not confirm (REDIS_WAIT_REPLICAS) answers 503 too, saying so.
 * Other errors get Nest's 500.
 */
@Catch()
export class RedisUnavailableFilter extends BaseExceptionFilter {
  private readonly logger = new Logger('BoxOffice');

  override catch(exception: unknown, host: ArgumentsHost): void {
    const failover =
      exception instanceof FailoverUnderWayError ||
      (exception instanceof UnreplicatedError &&
        exception.reason === 'failover');
    if (failover && host.getType() === 'http')
      return this.unavailable(
        host,
        `Purchase refused: ${exception.message}`,
        UNREPLICATED_RETRY_AFTER_SECONDS,
        FAILOVER_MESSAGE,
      );
    if (exception instanceof UnreplicatedError && host.getType() === 'http')
      return this.unavailable(
        host,
        `Purchase not confirmed by replicas: ${exception.message}`,
        UNREPLICATED_RETRY_AFTER_SECONDS,
        UNREPLICATED_MESSAGE,
      );
    if (
      exception instanceof RateLimitUnavailableError &&
      host.getType() === 'http'
    )
      return this.unavailable(
        host,
        `Rate limit not counted, Redis unavailable (${exception.reason}): ${redactSecrets(exception.message)}`,
        RETRY_AFTER_SECONDS,
        // The request itself did not run, whether or not Redis counted it.
        redisUnavailableMessage(
          exception.reason === 'no-answer' ? 'down' : exception.reason,
        ),
      );
    const reason = redisUnavailableReason(exception);
    if (!reason || host.getType() !== 'http')
      return super.catch(exception, host);
    this.unavailable(
      host,
      `Redis unavailable (${reason}): ${redactSecrets((exception as Error).message)}`,
      RETRY_AFTER_SECONDS,
      redisUnavailableMessage(reason),
    );
  }

  private unavailable(
    host: ArgumentsHost,
    logLine: string,
    retryAfterSeconds: number,
    message: string,
  ): void {
    this.logger.warn(logLine);
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    res
      .status(HttpStatus.SERVICE_UNAVAILABLE)
      .set('Retry-After', String(retryAfterSeconds))
      .json({ statusCode: 503, message, error: 'Service Unavailable' });
  }
}
