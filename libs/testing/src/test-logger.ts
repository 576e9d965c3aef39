import type { LoggerService } from '@nestjs/common';
import { SafeConsoleLogger } from '@podium/core';

/**
 * The logger of an app under test: the test's own (a CapturedLogger), none (false), or by
 * default errors and warnings to the console, escaped as the real loggers print them.
 */
export function testLogger(logger?: LoggerService | false): LoggerService {
  if (logger) return logger;
  return new SafeConsoleLogger({
    logLevels: logger === false ? [] : ['error', 'warn'],
  });
}
