import type { INestApplicationContext, Logger } from '@nestjs/common';

/** A stop that takes longer than this (stuck connections, a hung Redis) exits 1 anyway. */
export const SHUTDOWN_TIMEOUT_MS = 30_000;

/**
 * On SIGTERM or SIGINT: close the app (stop taking work, finish what was taken, close
 * connections), run `beforeExit` (say, export the last spans), then exit 0, so an
 * orchestrator sees a clean stop; after SHUTDOWN_TIMEOUT_MS, exit 1 whatever is left. A
 * second signal exits at once. Used instead of Nest's enableShutdownHooks, which re-raises
 * the signal.
 */
export function exitCleanlyOnSignals(
  app: INestApplicationContext,
  logger: Logger,
  { beforeExit }: { beforeExit?: () => Promise<void> } = {},
): void {
  let closing = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (closing) process.exit(1);
      closing = true;
      logger.log(`${signal}: shutting down`);
      setTimeout(() => {
        logger.error(
          `Shutdown took longer than ${SHUTDOWN_TIMEOUT_MS} ms: exiting anyway`,
        );
        process.exit(1);
      }, SHUTDOWN_TIMEOUT_MS).unref();
      app.close().then(
        async () => {
          await beforeExit?.().catch((err: Error) =>
            logger.warn(`Before exiting: ${err.message}`),
          );
          logger.log('Shut down cleanly');
          process.exit(0);
        },
        (err: Error) => {
          logger.error(`Shutdown failed: ${err.message}`);
          process.exit(1);
        },
      );
    });
  }
}
