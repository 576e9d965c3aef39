import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';

/** How long a graceful stop waits for the requests in flight before the server closes anyway. */
export const DRAIN_TIMEOUT_MS = 10_000;

/**
 * A graceful stop stops taking requests: once the app is closing (SIGTERM), a new request,
 * even on a kept-alive connection, answers 503 with `Connection: close`; idle kept-alive
 * connections are closed; the requests in flight finish (with `Connection: close`) for up to
 * DRAIN_TIMEOUT_MS; only then does Nest close the server and Redis. Live streams (SSE,
 * `Accept: text/event-stream`) are not waited for: the dashboard ends them itself.
 */
@Injectable()
export class DrainingGate implements BeforeApplicationShutdown {
  private readonly logger = new Logger('BoxOffice');
  private draining = false;
  private inFlight = 0;
  private idle?: () => void;

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /** Express middleware, mounted before every route. */
  readonly middleware = (
    req: Request,
    res: Response,
    next: NextFunction,
  ): void => {
    if (this.draining) {
      res.set('Connection', 'close').set('Retry-After', '1').status(503).json({
        statusCode: 503,
        message:
          'the box office is shutting down; try again (another instance, or in a moment)',
        error: 'Service Unavailable',
      });
      return;
    }
    if (req.headers.accept === 'text/event-stream') return next();
    this.inFlight++;
    let done = false;
    const finished = () => {
      if (done) return;
      done = true;
      if (--this.inFlight === 0) this.idle?.();
    };
    res.once('finish', finished);
    res.once('close', finished);
    next();
  };

  async beforeApplicationShutdown(): Promise<void> {
    this.draining = true;
    const server = this.adapterHost.httpAdapter?.getHttpServer() as
      Server | undefined;
    server?.closeIdleConnections?.();
    if (this.inFlight > 0) {
      this.logger.log(
        `Stopping: ${this.inFlight} request(s) in flight, new ones refused`,
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, DRAIN_TIMEOUT_MS);
        this.idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    // Whatever kept-alive connection is left is idle now: close it so that the server can close.
    server?.closeIdleConnections?.();
  }
}
