import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DynamicModule, LogLevel } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { pino, type DestinationStream } from 'pino';
import type { LogLevelName, PodiumEnv } from '@podium/config';
import { currentLogContext } from './log-context.js';

export { Logger as PinoNestLogger } from 'nestjs-pino';

/** Paths that are polled all the time: no access log line for them. */
const QUIET_PATHS = /^\/(health\/|metrics(\?|$))/;

/** Nest's console logger levels for a LOG_LEVEL (pretty mode); false for silent. */
export function nestLogLevels(level: LogLevelName): LogLevel[] | false {
  const order: [LogLevelName, LogLevel][] = [
    ['fatal', 'fatal'],
    ['error', 'error'],
    ['warn', 'warn'],
    ['info', 'log'],
    ['debug', 'debug'],
    ['trace', 'verbose'],
  ];
  if (level === 'silent') return false;
  const upTo = order.findIndex(([name]) => name === level);
  return order.slice(0, upTo + 1).map(([, nest]) => nest);
}

export interface JsonLoggingOptions {
  /** Names the process in every line (`app`). */
  app: string;
  /** Where lines go; stdout by default. Tests pass a stream of their own. */
  destination?: DestinationStream;
}

/**
 * nestjs-pino for LOG_FORMAT=json: one JSON object per line, `msg` the exact text the
 * code logged, `context` the Nest logger's context, plus `orderId` (and `listener`) on
 * every line written while an order is handled (see withLogContext), and an access log
 * line per HTTP request (not for /health and /metrics) with the request id and, for a
 * purchase, the order id. The app must then `useLogger(app.get(PinoNestLogger))`.
 *
 * nestjs-pino keeps one root logger per process: the first app to build it sets its options.
 */
export function jsonLoggingModule(env: PodiumEnv, { app, destination }: JsonLoggingOptions): DynamicModule {
  const options = {
    level: env.LOG_LEVEL,
    base: { app, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: () => ({ ...currentLogContext() }),
    redact: ['req.headers.authorization', 'req.headers.cookie'],
    customProps: (_req: IncomingMessage, res: ServerResponse) => {
      const orderId = (res as ServerResponse & { locals?: { orderId?: string } }).locals?.orderId;
      return orderId ? { orderId } : {};
    },
    customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
      err || res.statusCode >= 500 ? ('error' as const) : res.statusCode >= 400 ? ('warn' as const) : ('info' as const),
    autoLogging: { ignore: (req: IncomingMessage) => QUIET_PATHS.test(req.url ?? '') },
    serializers: {
      req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  };
  return LoggerModule.forRoot({ pinoHttp: destination ? [options, destination] : options });
}
