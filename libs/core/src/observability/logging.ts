import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  ConsoleLogger,
  type DynamicModule,
  type LogLevel,
} from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { pino, type DestinationStream, type LogFn } from 'pino';
import type { LogLevelName, PodiumEnv } from '../config/index.js';
import { redactSecrets } from '@podium/redis';
import { currentLogContext } from './log-context.js';

export { Logger as PinoNestLogger } from 'nestjs-pino';

/** Paths that are polled all the time: no access log line for them. */
const QUIET_PATHS = /^\/(health\/|metrics(\?|$))/;

// Characters that must not reach a log line raw: controls (C0, DEL, C1: a line feed would
// start a forged line, ESC would drive the terminal), line and paragraph separators, and
// lone surrogates (not text at all).
const UNSAFE_IN_LOGS = /[\p{Cc}\p{Zl}\p{Zp}]|\p{Cs}/gu;
const SHORT_ESCAPES: Record<string, string> = {
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

/**
 * A text as a log line may show it: every control character, line separator and lone
 * surrogate written as an escape (`\n`, `\r`, `\t`, `\u0000`), and the password of any URL
 * hidden. Whatever a log line prints from data (event and customer names, error messages)
 * then stays on that line. A backslash is left alone, so `\n` in a name reads like an escape.
 */
export function escapeLogText(text: string): string {
  return redactSecrets(text).replace(
    UNSAFE_IN_LOGS,
    (c) =>
      SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

// A V8 stack frame whose location has no spaces: `    at fn (file:///app.js:1:2)`, `    at
// async Promise.all (index 0)`. Any other line of a stack is part of the error's message.
const STACK_FRAME =
  /^ {4}at (?:(?:async |new )?[^\s()]+(?: \[as [^\s\]]+\])? \([^\s()]*\)|[^\s()]+|async Promise\.\w+ \(index \d+\))$/;

/**
 * Nest's console logger (LOG_FORMAT=pretty) with every message escaped (escapeLogText):
 * one call, one line. A stack trace keeps one frame a line; its message part is escaped
 * onto the line before, so an error message cannot add a line that looks like a frame.
 */
export class SafeConsoleLogger extends ConsoleLogger {
  protected override stringifyMessage(
    message: unknown,
    logLevel: LogLevel,
  ): string {
    const resolved = this.resolveMessage(message);
    return super.stringifyMessage(
      typeof resolved === 'string' ? escapeLogText(resolved) : resolved,
      logLevel,
    );
  }

  protected override printStackTrace(stack: string): void {
    if (!stack) return super.printStackTrace(stack);
    const lines: string[] = [];
    for (const line of stack.split('\n')) {
      if (lines.length === 0) lines.push(escapeLogText(line));
      else if (STACK_FRAME.test(line)) lines.push(line);
      else lines[lines.length - 1] += escapeLogText(`\n${line}`);
    }
    super.printStackTrace(lines.join('\n'));
  }
}

/** The pretty console logger for a LOG_LEVEL; false for silent. */
export function prettyLogger(level: LogLevelName): SafeConsoleLogger | false {
  const logLevels = nestLogLevels(level);
  return logLevels && new SafeConsoleLogger({ logLevels });
}

/** Nest's console logger levels for a LOG_LEVEL (pretty mode); false for silent. */
export function nestLogLevels(level: LogLevelName): LogLevel[] | false {
  const bySeverity: [LogLevelName, LogLevel][] = [
    ['fatal', 'fatal'],
    ['error', 'error'],
    ['warn', 'warn'],
    ['info', 'log'],
    ['debug', 'debug'],
    ['trace', 'verbose'],
  ];
  if (level === 'silent') return false;
  const upTo = bySeverity.findIndex(([name]) => name === level);
  return bySeverity.slice(0, upTo + 1).map(([, nest]) => nest);
}

export interface JsonLoggingOptions {
  /** Names the process in every line (`app`). */
  app: string;
  /** Where lines go; stdout by default. Tests pass a stream of their own. */
  destination?: DestinationStream;
}

/**
 * nestjs-pino for LOG_FORMAT=json: one JSON object per line, `msg` the exact text the
 * code logged, `context` the Nest logger's context, plus `orderId` (the message id) and
 * `listener` on every line written while a message is handled (see withLogContext), and an
 * access log line per HTTP request (not for /health and /metrics) with the request id and
 * the message id a handler put in `res.locals.orderId`, if any (the box office's
 * purchases do). The app must then `useLogger(app.get(PinoNestLogger))`.
 *
 * nestjs-pino keeps one root logger per process: the first app to build it sets its options.
 */
export function jsonLoggingModule(
  env: PodiumEnv,
  { app, destination }: JsonLoggingOptions,
): DynamicModule {
  const options = {
    level: env.LOG_LEVEL,
    base: { app, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: () => ({ ...currentLogContext() }),
    // msg as in pretty logs: controls escaped, URL passwords hidden (JSON escapes the rest).
    hooks: {
      logMethod(this: unknown, args: unknown[], method: LogFn) {
        method.apply(
          this,
          args.map((arg) =>
            typeof arg === 'string' ? escapeLogText(arg) : arg,
          ) as Parameters<LogFn>,
        );
      },
    },
    redact: ['req.headers.authorization', 'req.headers.cookie'],
    customProps: (_req: IncomingMessage, res: ServerResponse) => {
      const id = (res as ServerResponse & { locals?: { orderId?: string } })
        .locals?.orderId;
      return id ? { orderId: id } : {};
    },
    customLogLevel: (
      _req: IncomingMessage,
      res: ServerResponse,
      err?: Error,
    ) =>
      err || res.statusCode >= 500
        ? ('error' as const)
        : res.statusCode >= 400
          ? ('warn' as const)
          : ('info' as const),
    autoLogging: {
      ignore: (req: IncomingMessage) => QUIET_PATHS.test(req.url ?? ''),
    },
    serializers: {
      req: (req: { id: unknown; method: string; url: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url,
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
  };
  return LoggerModule.forRoot({
    pinoHttp: destination ? [options, destination] : options,
  });
}
